"""The province's worklist: features gemeenten submitted (``ingediend``), to adopt or return.

``GET /api/worklist`` (JSON) and the page ``/beheer``: each item with its differences from the
adopted state it would replace, on a map, with buttons that take the workflow actions through
the features API (``static/beheer.js``, with a write token from the browser session).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine

from app.auth import AuthError, Principal, require_province
from app.dependencies import AuthSettingsDep, EngineDep, PrincipalDep
from app.errors import ApiError
from app.maps import json_for_html
from app.nl_format import datum_tijd, page_templates
from app.openapi import problems
from app.settings import AuthSettings
from layers.errors import LayerError
from layers.kinds import load_kinds
from layers.ownership import load_gemeenten
from layers.workflow import load_workflow, worklist

router = APIRouter()
templates = page_templates()


def _province(who: Principal) -> None:
    try:
        require_province(who, "read the worklist")
    except AuthError as exc:
        raise ApiError(exc.status, exc.message) from exc


def _items(engine: Engine, auth: AuthSettings) -> list[dict[str, Any]]:
    kinds = load_kinds()
    with engine.connect() as conn:
        items = [i.as_dict() for i in worklist(conn)]
        try:
            names = load_gemeenten(conn, auth.gemeenten_layer).names
        except LayerError:
            names = {}
    for item in items:
        kind = kinds.get(item["kind"])
        labels = kind.field_labels() if kind else {}
        item["gemeente_naam"] = names.get(item["gemeente"] or "")
        item["submitted_local"] = _local(item["submitted_at"])
        for change in item["changes"]:
            change["label"] = labels.get(change["field"], change["field"])
            spec = kind.fields.get(change["field"]) if kind else None
            for side in ("before", "after"):
                value = change[side]
                change[f"{side}_text"] = (
                    (spec.values or {}).get(str(value), value) if spec and spec.values else value
                )
    return items


def _local(iso: str | None) -> str:
    """A time as Dutch planners read it: local time (Europe/Amsterdam), ``02-12-2026 18:05``."""
    if not iso:
        return ""
    return datum_tijd(datetime.fromisoformat(iso).astimezone(ZoneInfo("Europe/Amsterdam")))


@router.get(
    "/api/worklist",
    tags=["layers"],
    summary="Features submitted by gemeenten, waiting for the province",
    responses=problems(403),
)
def api_worklist(engine: EngineDep, who: PrincipalDep, auth: AuthSettingsDep) -> dict[str, Any]:
    """Every feature in state ``ingediend`` with its differences from the adopted state it
    would replace (the province only)."""
    if who.anonymous:
        raise ApiError(401, "the worklist is for the province: send its bearer token")
    _province(who)
    return {"items": _items(engine, auth)}


@router.get("/beheer", response_class=HTMLResponse, include_in_schema=False)
def beheer(
    request: Request, engine: EngineDep, who: PrincipalDep, auth: AuthSettingsDep
) -> Response:
    """The worklist page (the province, signed in)."""
    if who.anonymous:
        return RedirectResponse("/inloggen?next=/beheer", status_code=303)
    _province(who)
    items = _items(engine, auth)
    wf = load_workflow()
    return templates.TemplateResponse(
        request,
        "beheer.html",
        {
            "items": items,
            "principal": who,
            "actions": {k: a.label for k, a in wf.actions.items()},
            "data": json_for_html({"items": items}),
        },
    )
