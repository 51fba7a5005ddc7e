"""``/api/scenarios``, ``/api/runs`` and ``/api/indicators``: specs, runs, results, rasters."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

import scenarios
from app.auth import require_province
from app.dependencies import (
    MAX_INT32,
    EngineDep,
    JsonBodyDep,
    PlanningDep,
    RunIdPath,
    VersionQuery,
    WriterDep,
)
from app.openapi import problems, request_body
from app.runs import milieucategorie_table, run_context

router = APIRouter(tags=["scenarios"])
TIFF = "image/tiff; application=geotiff"


def run_links(request: Request, run: scenarios.RunRecord) -> list[dict[str, str]]:
    """Links of a run: itself, CSV, rasters, derived layers, page and map."""
    rid = run.id
    links = [
        {
            "rel": "self",
            "href": str(request.url_for("run_result", run_id=rid)),
            "type": "application/json",
        },
        {
            "rel": "alternate",
            "href": str(request.url_for("run_csv", run_id=rid)),
            "type": "text/csv",
            "title": "tabel (CSV)",
        },
        {
            "rel": "alternate",
            "href": f"/scenario/{rid}",
            "type": "text/html",
            "title": "scenariopagina",
        },
        {
            "rel": "alternate",
            "href": f"/kaart/scenario/{rid}",
            "type": "text/html",
            "title": "kaart",
        },
    ]
    links += [
        {
            "rel": "enclosure",
            "href": str(request.url_for("run_raster", run_id=rid, name=name)),
            "type": TIFF,
            "title": name,
        }
        for name in run.rasters
    ]
    links += [
        {
            "rel": "related",
            "href": f"/api/layers/{layer}",
            "type": "application/json",
            "title": role,
        }
        for role, layer in run.output_layers.items()
    ]
    return links


def _run_doc(request: Request, run: scenarios.RunRecord, with_result: bool) -> dict[str, Any]:
    doc = run.as_dict(with_result=with_result)
    doc["links"] = run_links(request, run)
    return doc


@router.get("/api/scenarios", summary="Presets and saved scenario specs")
def scenarios_index(engine: EngineDep) -> dict[str, Any]:
    """The shipped presets and the newest version of every saved spec."""
    with engine.connect() as conn:
        specs = scenarios.list_specs(conn)
    return {"presets": scenarios.list_presets(), "specs": [s.as_dict() for s in specs]}


@router.post(
    "/api/scenarios",
    status_code=201,
    summary="Save a scenario spec",
    openapi_extra=request_body("ScenarioSpec"),
)
def create_spec(
    body: JsonBodyDep, engine: EngineDep, who: WriterDep, planning: PlanningDep
) -> Response:
    """Validate and store a spec (JSON); a new version when the name exists. 422 lists every
    problem."""
    require_province(who, "save scenario specs")
    with engine.begin() as conn:
        record = scenarios.save_spec(
            conn, body, created_by=who.label, table=milieucategorie_table(planning)
        )
    doc = record.as_dict()
    return Response(
        json.dumps(doc, default=str),
        status_code=201,
        media_type="application/json",
        headers={"Location": f"/api/scenarios/{record.name}?version={record.version}"},
    )


@router.get("/api/scenarios/{name}", summary="A saved spec or a preset")
def get_spec(name: str, engine: EngineDep, version: VersionQuery = None) -> dict[str, Any]:
    """A saved spec (newest or ``version``), or a preset of that name."""
    with engine.connect() as conn:
        try:
            return scenarios.get_spec(conn, name, version).as_dict()
        except scenarios.SpecNotFound:
            if version is None and name in {p["name"] for p in scenarios.list_presets()}:
                return {
                    "name": name,
                    "preset": True,
                    "spec": scenarios.load_preset(name).model_dump(mode="json"),
                }
            raise


@router.post("/api/scenarios/{name}/runs", status_code=201, summary="Run a saved spec or a preset")
def run_spec(
    name: str,
    engine: EngineDep,
    request: Request,
    who: WriterDep,
    planning: PlanningDep,
    version: VersionQuery = None,
) -> Response:
    """Run a spec (``name`` of a saved spec or preset); the run is stored, its result returned."""
    require_province(who, "run scenarios")
    ref = f"{name}@{version}" if version else name
    is_preset = version is None and name in {p["name"] for p in scenarios.list_presets()}
    if not is_preset:
        with engine.connect() as conn:
            scenarios.get_spec(conn, name, version)  # SpecNotFound → 404: the path names a resource
    run = scenarios.run_scenario(engine, ref, run_context(planning), created_by=who.label)
    doc = _run_doc(request, run, with_result=True)
    return Response(
        json.dumps(doc, default=str),
        status_code=201,
        media_type="application/json",
        headers={"Location": str(request.url_for("run_result", run_id=run.id))},
    )


@router.get("/api/runs", summary="Scenario runs")
def runs_index(
    engine: EngineDep,
    request: Request,
    spec: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Runs, newest first, without their results."""
    with engine.connect() as conn:
        runs = scenarios.list_runs(conn, spec_name=spec, limit=limit)
    return {"runs": [_run_doc(request, r, with_result=False) for r in runs]}


@router.get("/api/runs/compare", summary="Compare two runs", responses=problems(404))
def compare(
    engine: EngineDep,
    a: Annotated[int, Query(ge=1, le=MAX_INT32)],
    b: Annotated[int, Query(ge=1, le=MAX_INT32)],
) -> dict[str, Any]:
    """Differences B − A per gemeente and for the totals."""
    with engine.connect() as conn:
        return scenarios.compare_runs(conn, a, b)


@router.get("/api/runs/{run_id}", summary="A run and its result", name="run_result")
def run_result(run_id: RunIdPath, engine: EngineDep, request: Request) -> Response:
    """The run with its JSON result (totals, per gemeente, regions, milieuzonering, indicators)."""
    with engine.connect() as conn:
        run = scenarios.get_run(conn, run_id)
    return Response(
        json.dumps(_run_doc(request, run, with_result=True), default=str),
        media_type="application/json",
    )


@router.get(
    "/api/runs/{run_id}/table.csv",
    summary="Result table as CSV",
    name="run_csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def run_csv(run_id: RunIdPath, engine: EngineDep) -> Response:
    """Gemeenten, regions and totals of a run as CSV."""
    with engine.connect() as conn:
        text = scenarios.run_table_csv(conn, run_id)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="run-{run_id}.csv"'},
    )


@router.get(
    "/api/runs/{run_id}/rasters/{name}.tif",
    summary="A run raster (GeoTIFF, EPSG:28992)",
    name="run_raster",
    response_class=Response,
    responses={200: {"content": {"image/tiff": {}}}},
)
def run_raster(run_id: RunIdPath, name: str, engine: EngineDep) -> Response:
    """Suitability, allocation or constraints raster of a run."""
    with engine.connect() as conn:
        data = scenarios.get_run_raster(conn, run_id, name)
    return Response(
        data,
        media_type=TIFF,
        headers={"Content-Disposition": f'attachment; filename="run-{run_id}-{name}.tif"'},
    )


@router.get("/api/indicators", summary="The Ruimte indicators", responses=problems(404))
def indicators(
    engine: EngineDep,
    planning: PlanningDep,
    spec: Annotated[str | None, Query(description="Spec or preset for the ruimtevraag.")] = None,
) -> dict[str, Any]:
    """Landgebruik (thousands of ha), HMC-benutting and ruimtevraag vs beschikbare ruimte per
    gemeente."""
    with engine.connect() as conn:
        return scenarios.compute_indicators(conn, run_context(planning), spec)
