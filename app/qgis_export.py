"""Which layers go into the QGIS projects: all layers, or one scenario run's.

Used by ``ruimte layers export-qgis``, ``ruimte scenario export-qgis`` and the download
endpoints (``/api/qgis/project.zip``, ``/api/runs/{id}/qgis.zip``).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from sqlalchemy import Connection

import scenarios
from layers.access import Viewer
from layers.qgis_project import PDOK_BRT_XYZ, ProjectLayer, QgisExport, export_qgis_project
from layers.store import list_layers

#: Layers switched on when the project opens (others are in the project, switched off).
SHOWN_KINDS = {
    "gemeenten",
    "bedrijventerreinen",
    "reserveringen",
    "strategische_locaties",
    "hoofdstructuur",
    "allocatie",
    "milieuzones",
    "conflicten",
}
DERIVED_PREFIX = "run-"


def export_all_layers(
    conn: Connection,
    output_dir: Path,
    *,
    viewer: Viewer | None = None,
    hmc_threshold: str = "4",
    basemap_url: str = PDOK_BRT_XYZ,
    area_title: str,
) -> QgisExport:
    """``ruimte-circulair.gpkg`` and ``.qgz`` with every layer (scenario outputs left out);
    ``area_title`` (the work area's, ``Provincie Gelderland``) names the project."""
    layers = [
        ProjectLayer(info.name, visible=info.kind in SHOWN_KINDS)
        for info in list_layers(conn, viewer)
        if not info.name.startswith(DERIVED_PREFIX)
    ]
    return export_qgis_project(
        conn,
        layers,
        output_dir,
        "ruimte-circulair",
        f"Ruimte Circulair – kaartlagen {area_title}",
        viewer=viewer,
        hmc_threshold=hmc_threshold,
        basemap_url=basemap_url,
    )


def export_run(
    conn: Connection,
    run_id: int,
    output_dir: Path,
    *,
    viewer: Viewer | None = None,
    hmc_threshold: str = "4",
    basemap_url: str = PDOK_BRT_XYZ,
    area_title: str,
) -> QgisExport:
    """``run-<id>.gpkg`` and ``.qgz``: the run's derived layers and its inputs at the versions it
    read; ``area_title`` names the work area in the project title."""
    run = scenarios.get_run(conn, run_id)
    inputs = [
        ProjectLayer(name, version, visible=name in ("gemeenten", "bedrijventerreinen"))
        for name, version in sorted(run.layer_versions.items())
    ]
    derived = [ProjectLayer(name) for name in run.output_layers.values()]
    return export_qgis_project(
        conn,
        [*inputs, *derived],
        output_dir,
        f"run-{run.id}",
        f"Ruimte Circulair – {area_title}: scenario {run.spec_name}, run {run.id}",
        viewer=viewer,
        hmc_threshold=hmc_threshold,
        basemap_url=basemap_url,
    )


def zip_export(export: QgisExport, path: Path) -> Path:
    """The GeoPackage and the project in one zip (the project finds the GeoPackage beside it)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.write(export.gpkg, arcname=export.gpkg.name)
        zf.write(export.project, arcname=export.project.name)
    return path
