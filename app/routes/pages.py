"""HTML pages (Dutch): the index, the overview map and a gemeente's map."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from sqlalchemy import Connection, func, select

import scenarios
from app.dependencies import (
    MAX_INT32,
    AuthSettingsDep,
    EngineDep,
    PlanningDep,
    PrincipalDep,
    ViewerDep,
    WebSettingsDep,
)
from app.editing import Editor, may_edit
from app.errors import ApiError
from app.guards import csp_nonce
from app.maps import (
    EmbedBudget,
    LayerControl,
    Legend,
    kaartlaag,
    layer_group,
    new_map,
    outline_layer,
    province_outline,
    render,
    run_of_layer,
)
from app.nl_format import page_templates
from layers.access import Viewer
from layers.exporter import EXPORT_FORMATS
from layers.kinds import load_kinds
from layers.query import FeatureQuery, gemeente_extent, gemeente_names
from layers.store import LayerInfo, list_layers

router = APIRouter(include_in_schema=False)
templates = page_templates()
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

#: Drawing order (bottom to top) and whether a kind is shown when the map opens.
KIND_ORDER = [
    "landgebruik",
    "constraints",
    "gemeenten",
    "hoofdstructuur",
    "bedrijventerreinen",
    "reserveringen",
    "strategische_locaties",
    "vestigingen",
    "allocatie",
    "milieuzones",
    "conflicten",
]
SHOWN = {
    "gemeenten",
    "bedrijventerreinen",
    "reserveringen",
    "strategische_locaties",
    "hoofdstructuur",
}
NEARBY_M = 5_000.0


def _ordered(layers: list[LayerInfo]) -> list[LayerInfo]:
    rank = {k: i for i, k in enumerate(KIND_ORDER)}
    return sorted(layers, key=lambda i: (rank.get(i.kind, len(rank)), i.name))


def _gemeenten_layer(layers: list[LayerInfo]) -> LayerInfo | None:
    named = [i for i in layers if i.kind == "gemeenten"]
    return next((i for i in named if i.name == "gemeenten"), named[0] if named else None)


def _run_names(conn: Connection) -> dict[int, str]:
    """Scenario name per run id (the latest runs), for the layer control's run groups."""
    return {r.id: r.spec_name for r in scenarios.list_runs(conn, limit=200)}


@router.get("/kaart", response_class=HTMLResponse)
def kaart(
    request: Request,
    engine: EngineDep,
    settings: WebSettingsDep,
    planning: PlanningDep,
    viewer: ViewerDep,
    run: Annotated[
        int | None,
        Query(ge=1, le=MAX_INT32, description="A scenario run whose layers are shown."),
    ] = None,
) -> HTMLResponse:
    """All kaartlagen on one map, with a grouped layer control, legend and popups.

    Each scenario run's derived layers are one group of the control; only the layers of
    ``run`` (if given) are shown when the map opens.
    """
    area = request.app.state.work_area
    with engine.connect() as conn:
        layers = _ordered(list_layers(conn, viewer))
        gem = _gemeenten_layer(layers)
        outline, bounds = province_outline(conn, gem, area.title, viewer) if gem else (None, None)
        names = dict(gemeente_names(conn, gem, viewer)) if gem else {}
        run_names = _run_names(conn)

        def shown(info: LayerInfo) -> bool:
            of_run = run_of_layer(info.name)
            return of_run == run if of_run is not None else info.kind in SHOWN

        m = new_map(
            request.app.state.basemap, bounds, f"Kaartlagen circulaire economie – {area.title}"
        )
        threshold = planning.hmc_threshold
        if outline:
            outline_layer(outline).add_to(m)
        # Layers shown at first get the embedding budget first; all are drawn in KIND_ORDER.
        budget = EmbedBudget(settings.embed_max_bytes)
        built = {
            info.name: kaartlaag(
                conn,
                info,
                settings,
                show=shown(info),
                budget=budget,
                viewer=viewer,
                names=names,
                hmcThreshold=threshold,
                group=layer_group(info, run_names),
            )
            for info in sorted(layers, key=lambda i: not shown(i))
        }
        for info in layers:
            built[info.name].add_to(m)
    LayerControl().add_to(m)
    Legend().add_to(m)
    return HTMLResponse(render(m, csp_nonce(request)))


def _gemeente(
    conn: Connection, gem: LayerInfo, statcode: str, viewer: Viewer
) -> tuple[str, tuple[float, float, float, float]]:
    found = gemeente_extent(conn, gem, statcode, viewer)
    if found is None:
        raise ApiError(404, f"geen gemeente met code {statcode} in laag {gem.name!r}")
    return found


def _lonlat_bounds(
    conn: Connection, box: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    env = func.ST_Transform(func.ST_MakeEnvelope(*box, 28992), 4326)
    r = conn.execute(
        select(func.ST_XMin(env), func.ST_YMin(env), func.ST_XMax(env), func.ST_YMax(env))
    ).one()
    return (r[0], r[1], r[2], r[3])


@router.get("/kaart/gemeente")
def kaart_gemeente_choice(
    statcode: Annotated[str, Query(pattern=r"^[A-Za-z]{2}[0-9]{4}$", description="CBS code.")],
) -> RedirectResponse:
    """The index's gemeente choice (a plain form, no script): on to that gemeente's map."""
    return RedirectResponse(f"/kaart/gemeente/{statcode.upper()}", status_code=303)


@router.get("/kaart/gemeente/{statcode}", response_class=HTMLResponse)
def kaart_gemeente(
    statcode: str,
    request: Request,
    engine: EngineDep,
    settings: WebSettingsDep,
    planning: PlanningDep,
    viewer: ViewerDep,
    who: PrincipalDep,
    auth: AuthSettingsDep,
) -> HTMLResponse:
    """One gemeente's reserveringen with strategische locaties and HMC terreinen nearby; with
    the editing tools for the gemeente's editors and the province (signed in)."""
    code = statcode.upper()
    with engine.connect() as conn:
        layers = _ordered(list_layers(conn, viewer))
        gem = _gemeenten_layer(layers)
        if gem is None:
            raise ApiError(404, "er is geen laag met gemeenten")
        naam, box = _gemeente(conn, gem, code, viewer)
        near = (box[0] - NEARBY_M, box[1] - NEARBY_M, box[2] + NEARBY_M, box[3] + NEARBY_M)
        m = new_map(
            request.app.state.basemap,
            _lonlat_bounds(conn, box),
            f"Reserveringen gemeente {naam} ({code})",
        )
        threshold = planning.hmc_threshold
        nearby = FeatureQuery(bbox=near, bbox_srid=28992)
        budget = EmbedBudget(settings.embed_max_bytes)
        names = dict(gemeente_names(conn, gem, viewer))
        outline, _ = province_outline(conn, gem, request.app.state.work_area.title, viewer)
        if outline:
            outline_layer(outline).add_to(m)
        kaartlaag(
            conn,
            gem,
            settings,
            query=FeatureQuery(bbox=near, bbox_srid=28992),
            budget=budget,
            viewer=viewer,
            names=names,
            title="Gemeentegrenzen",
            group="Gemeente",
        ).add_to(m)
        kaartlaag(
            conn,
            gem,
            settings,
            query=FeatureQuery(gemeente=code),
            budget=budget,
            viewer=viewer,
            names=names,
            title=f"Gemeente {naam}",
            group="Gemeente",
            styleKey="gemeente_selected",
        ).add_to(m)
        for info in layers:
            if info.kind == "reserveringen":
                kaartlaag(
                    conn,
                    info,
                    settings,
                    query=FeatureQuery(gemeente=code),
                    budget=budget,
                    viewer=viewer,
                    names=names,
                ).add_to(m)
            elif info.kind == "strategische_locaties":
                kaartlaag(
                    conn,
                    info,
                    settings,
                    query=nearby,
                    budget=budget,
                    viewer=viewer,
                    names=names,
                    title=f"{info.title} (binnen 5 km)",
                ).add_to(m)
            elif info.kind == "bedrijventerreinen":
                hmc = replace(nearby, at_least={"max_milieucategorie": float(threshold)})
                kaartlaag(
                    conn,
                    info,
                    settings,
                    query=hmc,
                    budget=budget,
                    viewer=viewer,
                    names=names,
                    title="HMC-bedrijventerreinen (binnen 5 km)",
                    hmcThreshold=threshold,
                ).add_to(m)
    LayerControl().add_to(m)
    Legend().add_to(m)
    if may_edit(who, code):
        kinds = load_kinds()
        editable = [(i, kinds[i.kind]) for i in layers if i.kind in auth.gemeente_kinds]
        Editor(who, code, naam, editable).add_to(m)
    return HTMLResponse(render(m, csp_nonce(request)))


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    """The site icon (browsers ask for it on every page)."""
    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")


@router.get("/", response_class=HTMLResponse)
def index(request: Request, engine: EngineDep, viewer: ViewerDep) -> HTMLResponse:
    """Overview of layers, maps, scenarios and downloads."""
    with engine.connect() as conn:
        layers = _ordered(list_layers(conn, viewer))
        gem = _gemeenten_layer(layers)
        gemeenten = []
        if gem:
            gemeenten = gemeente_names(conn, gem, viewer)
        runs = [scenarios.get_run(conn, r.id) for r in scenarios.list_runs(conn, limit=20)]
    return templates.TemplateResponse(
        request,
        "index.html",
        {
            "layers": layers,
            "gemeenten": gemeenten,
            "formats": EXPORT_FORMATS,
            "runs": runs,
            "presets": scenarios.list_presets(),
        },
    )
