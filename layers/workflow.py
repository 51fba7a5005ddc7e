"""The workflow of features gemeenten maintain: concept → ingediend → vastgesteld / teruggestuurd.

States, actions, who may take them and what a write stores are data
(``layers/data/workflow.yaml``). Every transition is an edit like any other (:mod:`layers.edit`):
it closes the feature's current row at a new layer version and adds a row in the new state, so
the history shows who submitted, adopted or returned what and when. Adopting a concept that
proposes a change of an adopted feature (``proposal_for``) replaces that feature with the
concept's content and removes the concept; before that, the public and scenario runs keep
reading the adopted state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import shapely
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Connection, func, select

from layers.access import EVERYTHING, feature_visibility, layer_visibility
from layers.edit import (
    ADOPTED,
    EditResult,
    _check_expected,
    _close,
    _lock_layer,
    _new_version,
    create_feature,
    current_feature,
    insert_copy,
    row_bounds,
    stored_row,
)
from layers.errors import LayerError
from layers.models import Feature, Layer

WORKFLOW_FILE = Path(__file__).resolve().parent / "data" / "workflow.yaml"


class State(BaseModel):
    """A workflow state: its Dutch label and whether the public sees features in it."""

    model_config = ConfigDict(extra="forbid")
    label: str
    public: bool


class Action(BaseModel):
    """An action: the states it applies to, the state it leads to, and who may take it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    label: str
    from_: list[str] = Field(alias="from")
    to: str
    roles: list[str]
    reason: str | None = None
    """``required``: the action needs a reason (shown to the gemeente)."""


class Workflow(BaseModel):
    """The workflow vocabulary (``layers/data/workflow.yaml``)."""

    model_config = ConfigDict(extra="forbid")
    states: dict[str, State]
    on_write: dict[str, str]
    actions: dict[str, Action]

    @model_validator(mode="after")
    def _consistent(self) -> Workflow:
        problems = [
            f"action {name}: unknown state {s!r}"
            for name, a in self.actions.items()
            for s in [*a.from_, a.to]
            if s not in self.states
        ] + [
            f"on_write {r}: unknown state {s!r}"
            for r, s in self.on_write.items()
            if s not in self.states
        ]
        if ADOPTED not in self.states or not self.states[ADOPTED].public:
            problems.append(f"state {ADOPTED!r} must exist and be public")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def label(self, state: str) -> str:
        """The Dutch label of ``state``."""
        return self.states[state].label


@lru_cache(maxsize=2)
def load_workflow(path: str | None = None) -> Workflow:
    """The workflow vocabulary (cached)."""
    with open(path or WORKFLOW_FILE, encoding="utf-8") as fh:
        return Workflow.model_validate(yaml.safe_load(fh))


class WorkflowError(LayerError):
    """An action that the feature's state or the caller's role does not allow (409 / 403)."""

    status = 409
    title = "Conflict"

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


def write_state(role: str, draft: bool) -> str:
    """The state a create or replace by ``role`` stores (``on_write``, else by ``draft``)."""
    fixed = load_workflow().on_write.get(role)
    if fixed is not None:
        return fixed
    return "concept" if draft else ADOPTED


def check_action(action: str, state: str, role: str, reason: str | None) -> str:
    """The state ``action`` leads to from ``state`` for ``role``; :class:`WorkflowError` if none."""
    wf = load_workflow()
    if action not in wf.actions:
        raise WorkflowError(
            f"unknown action {action!r}; one of {', '.join(wf.actions)}", status=422
        )
    a = wf.actions[action]
    if role not in a.roles:
        raise WorkflowError(
            f"{role} may not {action} ({a.label.lower()}): that is for {', '.join(a.roles)}",
            status=403,
        )
    if state not in a.from_:
        raise WorkflowError(
            f"a feature that is {wf.label(state).lower()} ({state}) cannot be {action}; "
            f"{action} applies to {', '.join(a.from_)}"
        )
    if a.reason == "required" and not (reason or "").strip():
        raise WorkflowError(f"{action} needs a reason for the gemeente", status=422)
    return a.to


def transition(
    conn: Connection,
    name: str,
    fid: int,
    action: str,
    *,
    role: str,
    by: str | None,
    reason: str | None = None,
    expected: str | None = None,
) -> EditResult:
    """Take ``action`` on feature ``fid`` of layer ``name`` (authorisation by gemeente is the
    caller's); returns the feature that holds the result (the adopted feature for a proposal)."""
    layer = _lock_layer(conn, name)
    current = current_feature(conn, layer.id, fid, name)
    _check_expected(current, expected)
    to = check_action(action, current.workflow, role, reason)
    row = stored_row(
        conn, Feature.layer_id == layer.id, Feature.fid == fid, Feature.version_to.is_(None)
    )
    if to == ADOPTED and current.proposal_for is not None:
        target = current.proposal_for
        try:
            adopted = current_feature(conn, layer.id, target, name)
        except LayerError:
            adopted = None
        delta = -1 if adopted else 0
        version = _new_version(conn, layer, action, by, target, delta, row_bounds(row))
        _close(conn, layer.id, fid, version)
        if adopted is not None:
            _close(conn, layer.id, target, version)
        insert_copy(conn, layer.id, version, row, ADOPTED, by, target)
        return EditResult(fid=target, version=version)
    version = _new_version(conn, layer, action, by, fid, 0, row_bounds(row))
    _close(conn, layer.id, fid, version)
    reason = (reason or "").strip() or None
    insert_copy(conn, layer.id, version, row, to, by, fid, reason, current.proposal_for)
    return EditResult(fid=fid, version=version)


def propose_change(
    conn: Connection,
    name: str,
    fid: int,
    geometry: shapely.Geometry,
    attributes: dict[str, Any],
    gemeente: str | None,
    *,
    state: str,
    by: str | None,
    expected: str | None,
) -> EditResult:
    """A concept (in ``state``) that proposes a change of adopted feature ``fid``, which stays as
    it is; :class:`StaleFeature` when ``expected`` is stale, :class:`WorkflowError` (409) when
    ``fid`` already has an open proposal. Checked under the layer lock, so two proposals of one
    feature never both pass."""
    layer = _lock_layer(conn, name)
    _check_expected(current_feature(conn, layer.id, fid, name), expected)
    other = open_proposal(conn, layer.id, fid)
    if other is not None:
        raise WorkflowError(
            f"feature {fid} already has a proposed change, feature {other}: change that one"
        )
    return create_feature(
        conn, name, geometry, attributes, gemeente, workflow=state, proposal_for=fid, by=by
    )


def open_proposal(conn: Connection, layer_id: int, fid: int) -> int | None:
    """The concept that proposes a change of adopted feature ``fid``, if there is one."""
    return conn.execute(
        select(Feature.fid).where(
            Feature.layer_id == layer_id,
            Feature.proposal_for == fid,
            Feature.version_to.is_(None),
        )
    ).scalar()


@dataclass(frozen=True)
class Change:
    """One field that differs from the adopted state."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class WorkItem:
    """A feature in a state that waits for the province (ingediend)."""

    layer: str
    layer_title: str
    kind: str
    fid: int
    gemeente: str | None
    naam: str | None
    submitted_by: str | None
    submitted_at: Any
    proposal_for: int | None
    changes: list[Change]
    area_ha: float | None
    adopted_area_ha: float | None
    geometry_changed: bool
    geometry_geojson: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (the geometry as a GeoJSON object)."""
        doc = {k: v for k, v in self.__dict__.items() if k != "geometry_geojson"}
        doc["changes"] = [c.__dict__ for c in self.changes]
        doc["submitted_at"] = self.submitted_at.isoformat() if self.submitted_at else None
        doc["geometry"] = json.loads(self.geometry_geojson)
        return doc


def worklist(conn: Connection, state: str = "ingediend") -> list[WorkItem]:
    """Every current feature in ``state`` (all layers), with its differences from the adopted
    state it replaces (every field as new, for a new feature); the province's worklist."""
    f = Feature.__table__.alias("f")
    a = Feature.__table__.alias("a")
    rows = conn.execute(
        select(
            Layer.name,
            Layer.title,
            Layer.kind,
            f.c.fid,
            f.c.gemeente,
            f.c.properties,
            f.c.created_by,
            f.c.created_at,
            f.c.proposal_for,
            func.ST_Area(f.c.geom) / 10_000.0,
            a.c.properties,
            func.ST_Area(a.c.geom) / 10_000.0,
            func.coalesce(func.ST_Equals(f.c.geom, a.c.geom), False),
            func.ST_AsGeoJSON(func.ST_Transform(f.c.geom, 4326), 6),
        )
        .select_from(f)
        .join(Layer, Layer.id == f.c.layer_id)
        .outerjoin(
            a,
            (a.c.layer_id == f.c.layer_id)
            & (a.c.fid == f.c.proposal_for)
            & a.c.version_to.is_(None),
        )
        .where(
            f.c.version_to.is_(None),
            f.c.workflow == state,
            layer_visibility(EVERYTHING),
            feature_visibility(EVERYTHING),
        )
        .order_by(f.c.created_at, f.c.fid)
    ).all()
    items = []
    for r in rows:
        props, adopted = r[5] or {}, r[10]
        before = adopted or {}
        fields = sorted(set(props) | set(before))
        changes = [
            Change(k, before.get(k), props.get(k))
            for k in fields
            if adopted is None or before.get(k) != props.get(k)
        ]
        items.append(
            WorkItem(
                layer=r[0],
                layer_title=r[1],
                kind=r[2],
                fid=r[3],
                gemeente=r[4],
                naam=props.get("naam"),
                submitted_by=r[6],
                submitted_at=r[7],
                proposal_for=r[8],
                changes=[c for c in changes if c.after is not None or c.before is not None],
                area_ha=round(r[9], 4) if r[9] is not None else None,
                adopted_area_ha=round(r[11], 4) if r[11] is not None else None,
                geometry_changed=adopted is None or not r[12],
                geometry_geojson=r[13],
            )
        )
    return items
