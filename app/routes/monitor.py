"""The Ruimte monitor pages (Dutch): editions, milestones, gemeenten, map, reports, tables.

Every page shows a *stored* edition (:mod:`scenarios.monitor`): figures computed once from
the layer versions valid on each peildatum, as the public sees them; nothing is computed
again here. Live parts (a gemeente's workflow states, the balance in the latest scenario
runs) are read with the reader's own visibility (:mod:`layers.access`).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import shapely.geometry
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection

import scenarios
from app.charts import balance_bars
from app.dependencies import MAX_INT32, EngineDep, RunIdPath, ViewerDep
from app.guards import csp_nonce
from app.maps import (
    LayerControl,
    Legend,
    RuimteLayer,
    diverging_classes,
    layer_options,
    new_map,
    outline_layer,
    province_outline,
    render,
)
from app.monitor_charts import line_chart, stacked_bars
from app.monitor_pdf import RETRY_AFTER_S, PdfBusy, PdfError, render_pdf, self_url
from app.monitor_tables import GEMEENTE_COLUMNS, edition_csv, edition_xlsx
from app.nl_format import getal, page_templates
from app.routes.scenario_pages import phasing_view
from app.settings import get_province_settings
from layers.access import PUBLIC
from layers.history import workflow_counts
from layers.kinds import load_kinds
from layers.query import FeatureQuery, query_features
from layers.store import get_layer
from layers.workflow import load_workflow
from scenarios.monitor import (
    INDICATORS,
    EditionNotFound,
    MonitorConfig,
    MonitorEdition,
    changes,
    edition_config,
    get_edition,
    list_editions,
    previous_edition,
    reason_text,
)

router = APIRouter(include_in_schema=False)
templates = page_templates()

EditionPath = Annotated[int, Path(ge=1, le=MAX_INT32, description="Monitor edition id.")]
StatcodePath = Annotated[str, Path(pattern=r"^GM[0-9]{4}$", description="Gemeente statcode.")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SYNTHETIC_NOTE = "Bevat synthetische demodata: niet voor echte besluiten."
#: The indicators drawn together in one line chart, with the chart's title.
CHARTS = (
    (("landgebruik_duizend_ha",), "Landgebruik in de provincie"),
    (("hmc_benutting_pct",), "HMC-benutting"),
    (("reserveringen_hard_ha", "reserveringen_zacht_ha"), "Reserveringen hard en zacht"),
    (("gemeenten_met_harde_reservering_pct",), "Gemeenten met een harde reservering"),
    (("strategische_locaties_beschikbaar_pct",), "Strategische locaties beschikbaar"),
)


def _province() -> str:
    """The work area as the monitor's titles name it: ``Provincie Utrecht``, ``Nederland``."""
    return get_province_settings().title


def _number(value: Any, decimals: int) -> str:
    return getal(value, decimals)


def _edition(conn: Connection, edition_id: int | None) -> MonitorEdition | None:
    if edition_id is not None:
        return get_edition(conn, edition_id)
    editions = list_editions(conn)
    return get_edition(conn, editions[0].id) if editions else None


def _milestones(config: MonitorConfig, statuses: list[dict]) -> list[dict]:
    return [{**m, "reason": reason_text(m, config, _number)} for m in statuses]


def _charts(config: MonitorConfig, series: list[dict], province: str) -> list[str]:
    labels = [date.fromisoformat(s["peildatum"]).strftime("%d-%m-%Y") for s in series]
    out = []
    for keys, title in CHARTS:
        first = config.indicators[keys[0]]
        out.append(
            line_chart(
                labels,
                [
                    (config.indicators[k].label, [s["indicators"].get(k) for s in series])
                    for k in keys
                ],
                title=f"{title} ({province})",
                unit=first.unit,
                decimals=first.decimals,
            )
        )
    return out


def _gemeente_bars(series: list[dict]) -> str:
    last = series[-1]
    rows = [
        (r["naam"], [r["reserveringen_hard_ha"], r["reserveringen_zacht_ha"]])
        for r in sorted(last["per_gemeente"], key=lambda r: r["naam"])
    ]
    if not rows:
        return ""
    return stacked_bars(
        rows,
        ["hard (vastgesteld omgevingsplan)", "zacht (visie)"],
        title=f"Reserveringen per gemeente op {date.fromisoformat(last['peildatum']).strftime('%d-%m-%Y')} (ha)",
        unit="ha",
    )


def _provenance(edition: MonitorEdition) -> list[tuple[str, str]]:
    last = edition.result["series"][-1]
    layers = "; ".join(
        f"{name} versie {p['version']}" + (" (synthetisch)" if p["synthetic"] else "")
        for name, p in last.get("provenance", {}).items()
    )
    return [
        ("Editie", f"{edition.id}: {edition.title}"),
        ("Gemaakt", edition.created_at.strftime("%d-%m-%Y %H:%M")),
        ("Software", f"ruimte-circulair {edition.software_version}"),
        ("Configuratie (SHA-256)", edition.config_hash),
        ("Peildata", ", ".join(edition.peildata)),
        ("Lagen op de laatste peildatum", layers or "geen"),
        ("Synthetische data", SYNTHETIC_NOTE if edition.synthetic else "nee"),
    ]


def _context(conn: Connection, edition: MonitorEdition) -> dict[str, Any]:
    config = edition_config(edition)
    series = edition.result["series"]
    prev = previous_edition(conn, edition.id)
    diff = changes(prev, edition)
    last = series[-1]
    rows = []
    for key in INDICATORS:
        ind = config.indicators[key]
        rows.append(
            {
                "key": key,
                "label": ind.label,
                "unit": ind.unit,
                "decimals": ind.decimals,
                "values": [s["indicators"].get(key) for s in series],
                "change": diff["indicators"].get(key),
            }
        )
    grid = [
        {
            "title": m.title,
            "year": m.year,
            "statuses": [
                next(x["status"] for x in s["milestones"] if x["id"] == m.id) for s in series
            ],
        }
        for m in config.milestones
    ]
    return {
        "edition": edition,
        "config": config,
        "series": series,
        "last": last,
        "indicator_rows": rows,
        "charts": _charts(config, series, _province()),
        "bars": _gemeente_bars(series),
        "milestones": _milestones(config, last["milestones"]),
        "milestone_grid": grid,
        "changes": diff,
        "provenance": _provenance(edition),
        "province": _province(),
        "synthetic_note": SYNTHETIC_NOTE,
        "editions": list_editions(conn),
        "gemeente_columns": GEMEENTE_COLUMNS,
    }


@router.get("/monitor", response_class=HTMLResponse)
def monitor_page(request: Request, engine: EngineDep) -> HTMLResponse:
    """The latest monitor edition (or how to make one)."""
    with engine.connect() as conn:
        edition = _edition(conn, None)
        if edition is None:
            return templates.TemplateResponse(request, "monitor_empty.html", {})
        return templates.TemplateResponse(request, "monitor.html", _context(conn, edition))


@router.get("/monitor/{edition_id}", response_class=HTMLResponse)
def monitor_edition(edition_id: EditionPath, request: Request, engine: EngineDep) -> HTMLResponse:
    """One monitor edition: indicators over time, milestones, gemeenten, changes."""
    with engine.connect() as conn:
        return templates.TemplateResponse(
            request, "monitor.html", _context(conn, get_edition(conn, edition_id))
        )


def _result_doc(run: Any) -> dict[str, Any]:
    """A run's result as its stored JSON (the typed :class:`scenarios.RunResult` dumped), for
    the monitor's tables and reports; empty without a result."""
    return run.result.model_dump(mode="json") if run.result is not None else {}


def _latest_balances(conn: Connection, statcode: str, limit: int = 5) -> list[dict[str, Any]]:
    """The gemeente's row in the latest finished scenario runs (runs read adopted data only)."""
    out = []
    for run in scenarios.list_runs(conn, limit=50):
        if run.status != "done":
            continue
        result = _result_doc(scenarios.get_run(conn, run.id))
        row = next(
            (r for r in result.get("per_gemeente", []) if r.get("statcode") == statcode), None
        )
        if row is not None:
            out.append({"run": run, "row": row})
        if len(out) >= limit:
            break
    return out


def _gemeente_context(
    conn: Connection, edition: MonitorEdition, statcode: str, viewer: Any
) -> dict[str, Any]:
    ctx = _context(conn, edition)
    rows = [
        {"peildatum": s["peildatum"], **r}
        for s in ctx["series"]
        for r in s["per_gemeente"]
        if r["statcode"] == statcode
    ]
    if not rows:
        raise EditionNotFound(f"gemeente {statcode} is not in monitor edition {edition.id}")
    labels = [date.fromisoformat(r["peildatum"]).strftime("%d-%m-%Y") for r in rows]
    naam = rows[-1]["naam"]
    config = ctx["config"]
    workflow = load_workflow()
    counts = workflow_counts(conn, config.layers["reserveringen"], statcode, viewer)
    ctx.update(
        {
            "statcode": statcode,
            "naam": naam,
            "gemeente_rows": rows,
            "gemeente_charts": [
                line_chart(
                    labels,
                    [
                        ("hard", [r["reserveringen_hard_ha"] for r in rows]),
                        ("zacht", [r["reserveringen_zacht_ha"] for r in rows]),
                    ],
                    title=f"Reserveringen van {naam}",
                    unit="ha",
                ),
                line_chart(
                    labels,
                    [("HMC-benutting", [r["hmc_benutting_pct"] for r in rows])],
                    title=f"HMC-benutting in {naam}",
                    unit="%",
                ),
            ],
            "workflow": [
                {"state": s, "label": st.label, **counts.get(s, {"n": 0, "ha": 0.0})}
                for s, st in workflow.states.items()
            ],
            "workflow_public_only": viewer == PUBLIC
            or not (viewer.see_all or viewer.gemeente == statcode),
            "balances": _latest_balances(conn, statcode),
            "gemeente_change": ctx["changes"]["gemeenten"].get(statcode),
            "column_labels": {k: label for k, label, _ in GEMEENTE_COLUMNS},
        }
    )
    return ctx


@router.get("/monitor/{edition_id}/gemeente/{statcode}", response_class=HTMLResponse)
def monitor_gemeente(
    edition_id: EditionPath,
    statcode: StatcodePath,
    request: Request,
    engine: EngineDep,
    viewer: ViewerDep,
) -> HTMLResponse:
    """A gemeente in a monitor edition: its reserveringen over time, workflow, balance."""
    with engine.connect() as conn:
        ctx = _gemeente_context(conn, get_edition(conn, edition_id), statcode, viewer)
        return templates.TemplateResponse(request, "monitor_gemeente.html", ctx)


@router.get("/kaart/monitor/{edition_id}", response_class=HTMLResponse)
def monitor_map(
    edition_id: EditionPath,
    request: Request,
    engine: EngineDep,
    gemeente: Annotated[
        str | None, Query(pattern=r"^GM[0-9]{4}$", description="Zoom to this gemeente.")
    ] = None,
) -> HTMLResponse:
    """The edition on the map: gemeenten by reserveringen (ha) on the last peildatum, and the
    reserveringen as they were then (the pinned layer versions, as the public saw them);
    ``gemeente`` zooms to one gemeente."""
    with engine.connect() as conn:
        edition = get_edition(conn, edition_id)
        config = edition_config(edition)
        last = edition.result["series"][-1]
        day = date.fromisoformat(last["peildatum"]).strftime("%d-%m-%Y")
        gem_name = config.layers["gemeenten"]
        if gem_name not in last["layers"]:
            raise EditionNotFound(f"monitor edition {edition_id} has no gemeenten on {day}")
        gem = get_layer(conn, gem_name, last["layers"][gem_name], PUBLIC)
        outline, bounds = province_outline(conn, gem, request.app.state.work_area.title)
        features = _features(conn, gem, last["layers"][gem_name])
        if gemeente is not None:
            match = [f for f in features if f["properties"].get("statcode") == gemeente]
            if not match:
                raise EditionNotFound(f"gemeente {gemeente} is not in monitor edition {edition_id}")
            bounds = tuple(shapely.geometry.shape(match[0]["geometry"]).bounds)
        m = new_map(request.app.state.basemap, bounds, f"{edition.title}: reserveringen op {day}")
        if outline:
            outline_layer(outline).add_to(m)
        figures = {r["statcode"]: r for r in last["per_gemeente"]}
        labels = {
            "naam": "Gemeente",
            "statcode": "Code",
            **{k: lab for k, lab, _ in GEMEENTE_COLUMNS},
        }
        for f in features:
            row = figures.get(f["properties"].get("statcode"), {})
            row = {
                **row,
                "totaal_ha": (row.get("reserveringen_hard_ha") or 0)
                + (row.get("reserveringen_zacht_ha") or 0),
            }
            f["properties"] = {k: row.get(k) for k in [*labels, "totaal_ha"]}
        RuimteLayer(
            {
                "name": f"monitor-{edition.id}-gemeenten",
                "title": f"Reserveringen per gemeente (ha, {day})",
                "styleKey": "monitor_reserveringen",
                "diverging": diverging_classes(
                    [f["properties"]["totaal_ha"] for f in features], "monitor_reserveringen"
                ),
                "decimals": 1,
                "labels": {**labels, "totaal_ha": "Reserveringen totaal (ha)"},
                "fields": [*labels, "totaal_ha"],
                "tooltipField": "naam",
            },
            json.dumps({"type": "FeatureCollection", "features": features}),
        ).add_to(m)
        res_name = config.layers["reserveringen"]
        if res_name in last["layers"]:
            info = get_layer(conn, res_name, last["layers"][res_name], PUBLIC)
            kind = load_kinds()[info.kind]
            opts = layer_options(
                info, kind, title=f"Reserveringen op {day} (versie {info.version})"
            )
            opts.pop("url", None)
            data = {"type": "FeatureCollection", "features": _features(conn, info, info.version)}
            RuimteLayer(opts, json.dumps(data)).add_to(m)
        LayerControl().add_to(m)
        Legend().add_to(m)
    return HTMLResponse(render(m, csp_nonce(request)))


def _features(conn: Connection, info: Any, version: int) -> list[dict]:
    kind = load_kinds()[info.kind]
    page = query_features(
        conn,
        info,
        kind,
        FeatureQuery(limit=10_000, out_srid=4326, decimals=6, version=version, viewer=PUBLIC),
    )
    return json.loads(page.features_json)


def _report_html(request: Request, ctx: dict[str, Any], template: str, map_uri: str | None) -> str:
    return templates.get_template(template).render(
        {**ctx, "request": request, "map_image": map_uri, "method": METHOD}
    )


#: The method summary printed in every report.
METHOD = (
    "Elke indicator is berekend uit de kaartlagen zoals ze op de peildatum (00:00 uur, "
    "Nederlandse tijd) waren: per laag de laatste versie van vóór dat moment, zoals het publiek "
    "ze ziet (gepubliceerde lagen, geen concepten). Oppervlakten in hectare uit de geometrie in "
    "RD New (EPSG:28992). Reserveringen tellen bij de gemeente van hun veld gemeente; hard = in "
    "een vastgesteld omgevingsplan, zacht = in een visie. HMC-benutting = 100 × Σ min(netto_ha, "
    "kavels van HMC-vestigingen) ÷ Σ netto_ha over HMC-terreinen. Mijlpalen krijgen groen, "
    "oranje of rood volgens de regels in het monitorbestand; een editie wordt één keer berekend "
    "en bewaard met de gelezen laagversies, de softwareversie en de configuratie."
)


@router.get("/monitor/{edition_id}/rapport", response_class=HTMLResponse)
def monitor_report(edition_id: EditionPath, request: Request, engine: EngineDep) -> HTMLResponse:
    """The printable report of an edition (HTML with a print stylesheet)."""
    with engine.connect() as conn:
        ctx = _context(conn, get_edition(conn, edition_id))
    return HTMLResponse(_report_html(request, ctx, "monitor_report.html", None))


@router.get("/monitor/{edition_id}/gemeente/{statcode}/rapport", response_class=HTMLResponse)
def monitor_gemeente_report(
    edition_id: EditionPath,
    statcode: StatcodePath,
    request: Request,
    engine: EngineDep,
    viewer: ViewerDep,
) -> HTMLResponse:
    """The printable report of a gemeente in an edition."""
    with engine.connect() as conn:
        ctx = _gemeente_context(conn, get_edition(conn, edition_id), statcode, viewer)
    return HTMLResponse(_report_html(request, ctx, "monitor_report.html", None))


def _pdf(request: Request, ctx: dict[str, Any], filename: str) -> Response:
    edition = ctx["edition"]
    zoom = f"?gemeente={ctx['statcode']}" if ctx.get("statcode") else ""
    footer = f"{edition.title} · editie {edition.id} · ruimte-circulair {edition.software_version}"
    return _pdf_response(
        request,
        f"/kaart/monitor/{edition.id}{zoom}",
        lambda uri: _report_html(request, {**ctx, "pdf": True}, "monitor_report.html", uri),
        filename,
        footer + (f" · {SYNTHETIC_NOTE}" if edition.synthetic else ""),
    )


def _pdf_response(
    request: Request, map_path: str, html: Any, filename: str, footer: str
) -> Response:
    """A PDF made by Chromium from this server's map page and report HTML; 503 when it fails."""
    try:
        content = render_pdf(self_url(request.scope), map_path, html, footer)
    except PdfError as exc:
        return Response(
            json.dumps({"title": "PDF unavailable", "status": 503, "detail": str(exc)}),
            status_code=503,
            media_type="application/problem+json",
            headers={"Retry-After": str(RETRY_AFTER_S)} if isinstance(exc, PdfBusy) else None,
        )
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/monitor/{edition_id}/rapport.pdf")
def monitor_report_pdf(edition_id: EditionPath, request: Request, engine: EngineDep) -> Response:
    """The report of an edition as PDF (headless Chromium), with the map as an image."""
    with engine.connect() as conn:
        ctx = _context(conn, get_edition(conn, edition_id))
    return _pdf(request, ctx, f"ruimtemonitor-{edition_id}.pdf")


@router.get("/monitor/{edition_id}/gemeente/{statcode}/rapport.pdf")
def monitor_gemeente_pdf(
    edition_id: EditionPath,
    statcode: StatcodePath,
    request: Request,
    engine: EngineDep,
    viewer: ViewerDep,
) -> Response:
    """The report of a gemeente as PDF."""
    with engine.connect() as conn:
        ctx = _gemeente_context(conn, get_edition(conn, edition_id), statcode, viewer)
    return _pdf(request, ctx, f"ruimtemonitor-{edition_id}-{statcode}.pdf")


@router.get("/monitor/{edition_id}/tabellen.xlsx")
def monitor_xlsx(edition_id: EditionPath, engine: EngineDep) -> Response:
    """The edition's tables as a spreadsheet (number cells, Dutch number formats)."""
    with engine.connect() as conn:
        edition = get_edition(conn, edition_id)
    config = edition_config(edition)
    series = edition.result["series"]
    content = edition_xlsx(
        config, series, _milestones(config, series[-1]["milestones"]), _provenance(edition)
    )
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="ruimtemonitor-{edition_id}.xlsx"'},
    )


@router.get("/monitor/{edition_id}/tabellen.csv")
def monitor_csv(edition_id: EditionPath, engine: EngineDep) -> Response:
    """The edition's tables as CSV (comma separated, full precision)."""
    with engine.connect() as conn:
        edition = get_edition(conn, edition_id)
    return Response(
        edition_csv(edition_config(edition), edition.result["series"]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="ruimtemonitor-{edition_id}.csv"'},
    )


#: The method summary of a scenario run report (the full method: docs/methode-ruimtebeslag.md).
RUN_METHOD = (
    "De ruimtevraag is de groei (in % van het huidige ruimtebeslag per categorie) tot het "
    "zichtjaar; het aanbod is nog uitgeefbare grond, harde en zachte reserveringen (met hun "
    "gewicht), strategische locaties en intensivering. Balans = aanbod − vraag per gemeente; "
    "toewijzing op een raster in RD New naar geschiktheid, buiten de uitgesloten lagen. De run "
    "leest elke laag op een vaste versie, alleen vastgestelde objecten (geen concepten). "
    "Volledige methode: docs/methode-ruimtebeslag.md."
)


def _run_context(conn: Connection, run_id: int) -> dict[str, Any]:
    run = scenarios.get_run(conn, run_id)
    if run.status != "done":
        raise scenarios.ScenarioError(f"run {run_id} has no result (status {run.status})")
    spec = scenarios.get_spec(conn, run.spec_name, run.spec_version).spec
    result = _result_doc(run)
    rows = sorted(result.get("per_gemeente", []), key=lambda r: r.get("balance_ha") or 0.0)
    synthetic = bool((result.get("inputs") or {}).get("synthetic"))
    layers = ", ".join(f"{k} versie {v}" for k, v in run.layer_versions.items())
    return {
        "run": run,
        "spec": spec,
        "result": result,
        "rows": rows,
        "chart": balance_bars(rows, title="Balans aanbod − ruimtevraag per gemeente (ha)")
        if rows
        else "",
        **phasing_view(run.result),
        "synthetic": synthetic,
        "synthetic_note": SYNTHETIC_NOTE,
        "province": _province(),
        "method": RUN_METHOD,
        "provenance": [
            ("Run", f"{run.id}, gestart {run.started_at.strftime('%d-%m-%Y %H:%M')}"),
            ("Scenario", f"{run.spec_name} versie {run.spec_version}"),
            ("Software", f"ruimte-circulair {run.software_version}"),
            ("Gelezen lagen", layers or "geen"),
            ("Synthetische data", SYNTHETIC_NOTE if synthetic else "nee"),
        ],
    }


@router.get("/scenario/{run_id}/rapport", response_class=HTMLResponse)
def run_report(run_id: RunIdPath, request: Request, engine: EngineDep) -> HTMLResponse:
    """The printable report of a scenario run (HTML with a print stylesheet)."""
    with engine.connect() as conn:
        ctx = _run_context(conn, run_id)
    return templates.TemplateResponse(request, "run_report.html", {**ctx, "map_image": None})


@router.get("/scenario/{run_id}/rapport.pdf")
def run_report_pdf(run_id: RunIdPath, request: Request, engine: EngineDep) -> Response:
    """The report of a scenario run as PDF, with its map as an image."""
    with engine.connect() as conn:
        ctx = _run_context(conn, run_id)

    def html(uri: str | None) -> str:
        return templates.get_template("run_report.html").render(
            {**ctx, "request": request, "map_image": uri, "pdf": True}
        )

    run = ctx["run"]
    footer = f"Scenariorun {run.id} ({run.spec_name} versie {run.spec_version})"
    footer += f" · ruimte-circulair {run.software_version}"
    if ctx["synthetic"]:
        footer += f" · {SYNTHETIC_NOTE}"
    return _pdf_response(
        request, f"/kaart/scenario/{run_id}", html, f"scenario-run-{run_id}.pdf", footer
    )
