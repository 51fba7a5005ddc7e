"""Downloads of a GeoPackage with QGIS styles plus a QGIS project, as one zip."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

import scenarios
from app.dependencies import EngineDep, PlanningDep, RunIdPath, ViewerDep, WebSettingsDep
from app.errors import ApiError
from app.openapi import problems
from app.qgis_export import export_all_layers, export_run, zip_export

router = APIRouter(tags=["QGIS"])
ZIP = "application/zip"
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {ZIP: {"schema": {"type": "string", "format": "binary"}}},
        "description": "A zip with the GeoPackage and the .qgz project",
    }
}


def run_not_done(run: scenarios.RunRecord) -> str:
    """Why a run that is not ``done`` has nothing to export or show."""
    if run.status == "failed":
        return f"run {run.id} failed, so it has no result: {run.error or 'no reason recorded'}"
    return f"run {run.id} has status {run.status}; it has no result yet"


def _send(build, name: str) -> FileResponse:  # noqa: ANN001 - callable(tmpdir) -> QgisExport
    tmp = Path(tempfile.mkdtemp(prefix="ruimte-qgis-"))
    try:
        export = build(tmp / "out")
        path = zip_export(export, tmp / f"{name}.zip")
    except Exception:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type=ZIP,
        filename=path.name,
        background=BackgroundTask(shutil.rmtree, tmp, ignore_errors=True),
    )


@router.get(
    "/api/qgis/project.zip",
    summary="All layers as GeoPackage with QGIS project",
    response_class=FileResponse,
    responses=RESPONSES,
)
def qgis_project(
    request: Request,
    engine: EngineDep,
    viewer: ViewerDep,
    planning: PlanningDep,
    web: WebSettingsDep,
) -> FileResponse:
    """``ruimte-circulair.gpkg`` (styled) and ``ruimte-circulair.qgz`` (RD New, PDOK basemap),
    zipped."""

    def build(out: Path):  # noqa: ANN202
        with engine.connect() as conn:
            return export_all_layers(
                conn,
                out,
                viewer=viewer,
                hmc_threshold=planning.hmc_threshold,
                basemap_url=web.basemap_url,
                area_title=request.app.state.work_area.title,
            )

    return _send(build, "ruimte-circulair-qgis")


@router.get(
    "/api/runs/{run_id}/qgis.zip",
    summary="A scenario run as GeoPackage with QGIS project",
    response_class=FileResponse,
    responses={**RESPONSES, **problems(409)},
)
def run_qgis_project(
    run_id: RunIdPath,
    request: Request,
    engine: EngineDep,
    viewer: ViewerDep,
    planning: PlanningDep,
    web: WebSettingsDep,
) -> FileResponse:
    """The run's derived layers and inputs (pinned versions) with a QGIS project, zipped.

    409 for a run that failed or is still running: it has no layers to export."""
    with engine.connect() as conn:
        run = scenarios.get_run(conn, run_id)  # 404 before any work
    if run.status != "done":
        raise ApiError(409, run_not_done(run))

    def build(out: Path):  # noqa: ANN202
        with engine.connect() as conn:
            return export_run(
                conn,
                run_id,
                out,
                viewer=viewer,
                hmc_threshold=planning.hmc_threshold,
                basemap_url=web.basemap_url,
                area_title=request.app.state.work_area.title,
            )

    return _send(build, f"run-{run_id}-qgis")
