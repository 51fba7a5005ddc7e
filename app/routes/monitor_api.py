"""``/api/monitor``: the Ruimte indicators as of a peildatum, and the stored monitor editions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from app.dependencies import MAX_INT32, EngineDep
from app.monitor_settings import get_monitor_settings
from app.nl_format import getal
from app.openapi import problems
from scenarios.monitor import (
    check_peildata,
    edition_config,
    figures_at,
    get_edition,
    list_editions,
    load_config,
    reason_text,
)

router = APIRouter(tags=["monitor"])


class MilestoneStatus(BaseModel):
    """A milestone's status on a peildatum, with the reason in words."""

    id: str
    title: str
    indicator: str
    year: int
    target: float
    value: float | None
    status: str
    reason: str


class MonitorFigures(BaseModel):
    """The Ruimte indicators on one peildatum."""

    peildatum: date
    layers: dict[str, int]
    """Layer name → the version valid on the peildatum (absent: did not exist yet)."""
    indicators: dict[str, float | None]
    per_gemeente: list[dict[str, Any]]
    milestones: list[MilestoneStatus]
    synthetic: bool
    notes: list[str]


class EditionSummary(BaseModel):
    """A stored monitor edition, without its figures."""

    id: int
    title: str
    peildata: list[date]
    software_version: str
    config_hash: str
    synthetic: bool
    created_at: datetime


class Edition(EditionSummary):
    """A stored monitor edition with the layer versions it read and its figures."""

    layer_versions: dict[str, dict[str, int]]
    series: list[MonitorFigures]


def _figures(fig: dict[str, Any], config: Any) -> MonitorFigures:
    return MonitorFigures(
        peildatum=fig["peildatum"],
        layers=fig["layers"],
        indicators=fig["indicators"],
        per_gemeente=fig["per_gemeente"],
        milestones=[
            MilestoneStatus(
                **{k: m[k] for k in MilestoneStatus.model_fields if k != "reason"},
                reason=reason_text(m, config, getal),
            )
            for m in fig["milestones"]
        ],
        synthetic=fig["synthetic"],
        notes=fig["notes"],
    )


def _summary(e: Any) -> dict[str, Any]:
    return {k: getattr(e, k) for k in EditionSummary.model_fields}


@router.get(
    "/api/monitor/indicators",
    summary="The Ruimte indicators as of a peildatum",
    responses=problems(400),
)
def monitor_indicators(
    engine: EngineDep,
    peildatum: Annotated[date, Query(description="The date (YYYY-MM-DD), not in the future.")],
) -> MonitorFigures:
    """Every indicator and milestone as of ``peildatum``, from the layer versions valid then
    (as the public sees them). Nothing is stored."""
    check_peildata([peildatum], date.today())
    config, _ = load_config(get_monitor_settings().config)
    with engine.connect() as conn:
        return _figures(figures_at(conn, config, peildatum), config)


@router.get("/api/monitor/editions", summary="The stored monitor editions")
def monitor_editions(engine: EngineDep) -> list[EditionSummary]:
    """Every stored edition, newest first."""
    with engine.connect() as conn:
        return [EditionSummary(**_summary(e)) for e in list_editions(conn)]


@router.get(
    "/api/monitor/editions/{edition_id}",
    summary="A stored monitor edition",
    responses=problems(404),
)
def monitor_edition(
    engine: EngineDep,
    edition_id: Annotated[int, Path(ge=1, le=MAX_INT32, description="Edition id.")],
) -> Edition:
    """An edition as stored: peildata, the layer versions read on each, the figures."""
    with engine.connect() as conn:
        e = get_edition(conn, edition_id)
    config = edition_config(e)
    return Edition(
        **_summary(e),
        layer_versions=e.layer_versions,
        series=[_figures(s, config) for s in e.result["series"]],
    )
