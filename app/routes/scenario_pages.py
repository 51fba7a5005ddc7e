"""Scenario pages (Dutch): a run's table, chart and downloads, and its map."""

from __future__ import annotations

import json
from typing import Annotated, Any

import folium
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Connection

import scenarios
from app.charts import balance_bars, interval_bars, milestone_panels
from app.dependencies import MAX_INT32, EngineDep, PlanningDep, RunIdPath, WebSettingsDep
from app.guards import csp_nonce
from app.maps import (
    EmbedBudget,
    LayerControl,
    Legend,
    RuimteLayer,
    diverging_classes,
    kaartlaag,
    new_map,
    outline_layer,
    province_outline,
    render,
    run_group,
    side_by_side,
)
from app.nl_format import page_templates
from app.settings import PlanningSettings, WebSettings
from layers.errors import LayerNotFound
from layers.kinds import load_kinds
from layers.query import FeatureQuery, query_features
from layers.store import get_layer

router = APIRouter(include_in_schema=False)
templates = page_templates()

#: Per-gemeente result fields shown in the choropleth popups, with Dutch labels.
BALANCE_LABELS = {
    "naam": "Gemeente",
    "current_ha": "Huidig ruimtebeslag (ha)",
    "demand_ha": "Extra ruimtevraag (ha)",
    "supply_ha": "Aanbod (ha)",
    "balance_ha": "Balans aanbod − vraag (ha)",
    "allocated_ha": "Toegewezen nieuwe ruimte (ha)",
    "unmet_ha": "Niet plaatsbaar (ha)",
    "hmc_demand_ha": "Extra vraag HMC (ha)",
    "status": "Status",
}


def spec_layer(spec: dict[str, Any], role: str, default: str) -> str:
    """The layer name a spec uses for ``role`` (``gemeenten: x`` or ``{layer: x}``)."""
    entry = (spec.get("layers") or {}).get(role, default)
    return entry.get("layer", default) if isinstance(entry, dict) else str(entry)


def _run_and_spec(conn: Connection, run_id: int) -> tuple[scenarios.RunRecord, dict[str, Any]]:
    run = scenarios.get_run(conn, run_id)
    spec = scenarios.get_spec(conn, run.spec_name, run.spec_version).spec
    return run, spec


#: Dutch words for the states of a run that has no result.
STATUS_NL = {"failed": "mislukt", "running": "loopt nog"}


def not_done_page(request: Request, run: scenarios.RunRecord) -> HTMLResponse:
    """409: the run failed or is still running, so there is no result to show; says why."""
    return templates.TemplateResponse(
        request,
        "scenario_status.html",
        {"run": run, "status_nl": STATUS_NL.get(run.status, run.status)},
        status_code=409,
    )


@router.get("/scenario/{run_id}", response_class=HTMLResponse)
def scenario_page(run_id: RunIdPath, request: Request, engine: EngineDep) -> HTMLResponse:
    """A run: totals, the table per gemeente, a balance chart, conflicts and downloads."""
    with engine.connect() as conn:
        run, spec = _run_and_spec(conn, run_id)
        if run.status != "done":
            return not_done_page(request, run)
        others = [
            r for r in scenarios.list_runs(conn, limit=50) if r.id != run_id and r.status == "done"
        ]
    result = run.result
    rows = sorted(result.per_gemeente if result else [], key=lambda r: r.balance_ha or 0.0)
    chart = (
        balance_bars(
            [r.as_json() for r in rows], title="Balans aanbod − ruimtevraag per gemeente (ha)"
        )
        if rows
        else ""
    )
    return templates.TemplateResponse(
        request,
        "scenario.html",
        {
            "run": run,
            "spec": spec,
            "result": result,
            "rows": rows,
            "chart": chart,
            "others": others,
            "names": {r.statcode: r.naam for r in rows},
            **ensemble_view(result),
            **coverage_view(result),
            **phasing_view(result),
        },
    )


def phasing_view(result: scenarios.RunResult | None) -> dict[str, Any]:
    """The phasing's rows (earliest first shortage first, then by name) and its chart."""
    ph = result.phasing if result else None
    if ph is None:
        return {"phasing_rows": [], "phasing_chart": ""}
    rows = sorted(
        ph.per_gemeente,
        key=lambda r: (r.first_shortage is None, r.first_shortage or 0, r.naam),
    )
    chart = milestone_panels(
        [r.as_json() for r in rows],
        title="Ruimtevraag en beschikbaar aanbod per mijlpaal (ha)",
    )
    return {"phasing_rows": rows, "phasing_chart": chart}


def ensemble_view(result: scenarios.RunResult | None) -> dict[str, Any]:
    """The ensemble's rows (most likely to run short first) and its interval chart."""
    ens = result.ensemble if result else None
    if ens is None:
        return {"ensemble_rows": [], "ensemble_chart": "", "ensemble_labels": {}}
    rows = sorted(ens.per_gemeente, key=lambda r: (-r.p_shortage, r.balance_ha.p50))
    chart = interval_bars(
        [{"naam": r.naam, **r.balance_ha.as_json()} for r in rows],
        title="Balans aanbod − ruimtevraag per gemeente: p10–p90 en p50 (ha)",
    )
    return {
        "ensemble_rows": [(r.naam, r) for r in rows],
        "ensemble_chart": chart,
        "ensemble_labels": {i.input: i.label or i.input for i in ens.inputs},
    }


def coverage_labels() -> dict[str, str]:
    """Function value → its Dutch label (the ``functie`` vocabulary of the kinds)."""
    labels: dict[str, str] = {}
    for kind in load_kinds().values():
        fld = kind.fields.get("functie")
        if fld is not None and fld.values:
            labels.update(fld.values)
    return labels


def coverage_view(result: scenarios.RunResult | None) -> dict[str, Any]:
    """The coverage tables: per gemeente a cell per type, and the suggested sites."""
    cov = result.coverage if result else None
    if cov is None:
        return {"coverage_rows": [], "coverage_sites": [], "coverage_labels": {}}
    labels = coverage_labels()
    first = cov.types[0].per_gemeente
    rows = [
        (r.statcode, r.naam, [t.per_gemeente[g] for t in cov.types]) for g, r in enumerate(first)
    ]
    sites = [
        (labels.get(t.type, t.type), n, s)
        for t in cov.types
        for n, s in enumerate(t.suggestions, start=1)
    ]
    return {"coverage_rows": rows, "coverage_sites": sites, "coverage_labels": labels}


def balance_layer(
    conn: Connection, run: scenarios.RunRecord, spec: dict[str, Any], title: str
) -> RuimteLayer:
    """The gemeenten (at the version the run read) coloured by their balance."""
    name = spec_layer(spec, "gemeenten", "gemeenten")
    info = get_layer(conn, name, run.layer_versions.get(name))
    kind = load_kinds()[info.kind]
    page = query_features(
        conn,
        info,
        kind,
        FeatureQuery(limit=10_000, out_srid=4326, decimals=5, version=info.version),
    )
    rows = {r.statcode: r.as_json() for r in (run.result.per_gemeente if run.result else [])}
    features = json.loads(page.features_json)
    for f in features:
        row = rows.get(f["properties"].get("statcode"), {})
        f["properties"] = {k: row.get(k, f["properties"].get(k)) for k in BALANCE_LABELS}
    options = {
        "name": f"run-{run.id}-balans",
        "title": title,
        "styleKey": "balance",
        "diverging": diverging_classes([f["properties"].get("balance_ha") for f in features]),
        "decimals": 1,
        "labels": BALANCE_LABELS,
        "fields": list(BALANCE_LABELS),
        "values": {"status": {"groen": "groen", "oranje": "oranje", "rood": "rood"}},
        "tooltipField": "naam",
        "group": run_group(run.id, run.spec_name),
    }
    return RuimteLayer(options, json.dumps({"type": "FeatureCollection", "features": features}))


def _add_run_layers(
    conn: Connection,
    m: folium.Map,
    run: scenarios.RunRecord,
    spec: dict[str, Any],
    settings: WebSettings,
    planning: PlanningSettings,
    budget: EmbedBudget,
    *,
    show: bool = True,
) -> None:
    """The balance choropleth and the run's derived layers (embedded within ``budget``).

    All in one group of the layer control; ``show`` False lists them there, switched off.
    """
    if show:
        balance_layer(conn, run, spec, f"Balans per gemeente (run {run.id})").add_to(m)
    titles = {
        "allocatie": "Toegewezen nieuwe ruimte",
        "milieuzones": "Milieuzones HMC-terreinen",
        "conflicten": "Conflicten in milieuzones",
        "frequentie": "Hoe vaak toegewezen (bandbreedte)",
    }
    roles = ["milieuzones", "frequentie", "allocatie", "conflicten"]
    coverage = sorted(r for r in run.output_layers if r.startswith("dekking-"))
    roles += coverage
    group = run_group(run.id, run.spec_name)
    phasing = run.result.phasing if run.result else None
    staged = phasing is not None and phasing.staged and bool(run.output_layers.get("fasering"))
    if staged:
        try:
            info = get_layer(conn, run.output_layers["fasering"])
        except LayerNotFound:
            info = None
        # one layer per milestone: what is allocated up to and including it; the last shown
        for year in phasing.milestones if info is not None else []:
            kaartlaag(
                conn,
                info,
                settings,
                query=FeatureQuery(filters={"mijlpaal": str(year)}),
                budget=budget,
                show=show and year == phasing.milestones[-1],
                name=f"{info.name}-{year}",
                title=f"Toegewezen t/m {year} (run {run.id})",
                styleKey="fasering",
                group=group,
                # the run shown gets a time slider over its milestones
                **(
                    {"timeSet": info.name, "timeYear": year, "timeLabel": "Toegewezen t/m"}
                    if show
                    else {}
                ),
            ).add_to(m)
    for role in roles:
        layer = run.output_layers.get(role)
        if not layer:
            continue
        try:
            info = get_layer(conn, layer)
        except LayerNotFound:
            continue
        kaartlaag(
            conn,
            info,
            settings,
            budget=budget,
            # one coverage layer on at first: their reach circles overlap; with milestones the
            # staged layers show the allocation, the plain one is listed
            show=show and role not in coverage[1:] and not (staged and role == "allocatie"),
            title=f"{titles.get(role) or coverage_title(role)} (run {run.id})",
            styleKey=role.split("-")[0],
            hmcThreshold=planning.hmc_threshold,
            group=run_group(run.id, run.spec_name),
        ).add_to(m)


#: How many other runs the scenario map lists (switched off) beside the one it shows.
OTHER_RUNS_LISTED = 10


def coverage_title(role: str) -> str:
    """``dekking-sorteercentrum`` → ``Bereik Sorteercentrum voor reststromen``."""
    value = role.removeprefix("dekking-")
    return "Bereik " + coverage_labels().get(value, value.replace("_", " "))


def _other_runs(conn: Connection, run_id: int) -> list[scenarios.RunRecord]:
    """The latest finished runs other than ``run_id`` (their layers, switched off)."""
    runs = [r for r in scenarios.list_runs(conn, limit=50) if r.id != run_id and r.status == "done"]
    return [scenarios.get_run(conn, r.id) for r in runs[:OTHER_RUNS_LISTED]]


@router.get("/kaart/scenario/{run_id}", response_class=HTMLResponse)
def scenario_map(
    run_id: RunIdPath,
    request: Request,
    engine: EngineDep,
    settings: WebSettingsDep,
    planning: PlanningDep,
    vergelijk: Annotated[
        int | None,
        Query(ge=1, le=MAX_INT32, description="Id of a second run, shown side by side."),
    ] = None,
) -> HTMLResponse:
    """A run on the map: balance choropleth, allocated areas, milieuzones and conflicts."""
    with engine.connect() as conn:
        run, spec = _run_and_spec(conn, run_id)
        if run.status != "done":
            return not_done_page(request, run)
        gem = get_layer(
            conn,
            spec_layer(spec, "gemeenten", "gemeenten"),
            run.layer_versions.get(spec_layer(spec, "gemeenten", "gemeenten")),
        )
        outline, bounds = province_outline(conn, gem, request.app.state.work_area.title)
        if vergelijk is None:
            m = new_map(
                request.app.state.basemap, bounds, f"Scenario {run.spec_name} – run {run.id}"
            )
            outline_layer(outline).add_to(m)
            budget = EmbedBudget(settings.embed_max_bytes)
            _add_run_layers(conn, m, run, spec, settings, planning, budget)
            # Other runs: one group each, switched off, never embedded (loaded when shown).
            for other in _other_runs(conn, run.id):
                _add_run_layers(conn, m, other, {}, settings, planning, EmbedBudget(0), show=False)
            LayerControl(first=[run_group(run.id, run.spec_name)]).add_to(m)
            Legend().add_to(m)
            return HTMLResponse(render(m, csp_nonce(request)))
        other, other_spec = _run_and_spec(conn, vergelijk)
        if other.status != "done":
            return not_done_page(request, other)
        figure, left, right = side_by_side(
            request.app.state.basemap,
            bounds,
            (f"Run {run.id}: {run.spec_name}", f"Run {other.id}: {other.spec_name}"),
            f"Scenario's vergelijken: run {run.id} en {other.id}",
        )
        for m, r, s in ((left, run, spec), (right, other, other_spec)):
            outline_layer(outline).add_to(m)
            _add_run_layers(
                conn, m, r, s, settings, planning, EmbedBudget(settings.embed_max_bytes // 2)
            )
            LayerControl(collapsed=True).add_to(m)
            Legend().add_to(m)
    return HTMLResponse(render(figure, csp_nonce(request)))
