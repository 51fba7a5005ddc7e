"""``ruimte layers export-qgis`` and ``ruimte scenario export-qgis``: GeoPackage + QGIS project."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.common import CliError, engine, out
from app.settings import get_planning_settings, get_web_settings, get_work_area

if TYPE_CHECKING:
    from layers.qgis_project import QgisExport


def _report(export: QgisExport) -> None:
    out.print(
        f"wrote {export.gpkg} ({len(export.layers)} layers, styled) and {export.project}",
        highlight=False,
    )
    out.print(f"open in QGIS: qgis {export.project}", highlight=False)


def register(layers_app: typer.Typer, scenario_app: typer.Typer) -> None:
    """Add the ``export-qgis`` commands to the ``layers`` and ``scenario`` sub-apps."""

    @layers_app.command("export-qgis")
    def layers_export_qgis(
        output: Annotated[
            Path,
            typer.Option(
                "--output",
                "-o",
                help="Directory for ruimte-circulair.gpkg and .qgz.",
            ),
        ],
    ) -> None:
        """Every layer in one GeoPackage (with QGIS styles) and a QGIS project (RD New, PDOK basemap)."""
        from app.qgis_export import export_all_layers

        with engine().connect() as conn:
            export = export_all_layers(
                conn,
                output,
                hmc_threshold=get_planning_settings().hmc_threshold,
                basemap_url=get_web_settings().basemap_url,
                area_title=get_work_area().title,
            )
        _report(export)

    @scenario_app.command("export-qgis")
    def scenario_export_qgis(
        run_id: Annotated[int, typer.Argument(help="Run id (see `ruimte scenario list`).")],
        output: Annotated[
            Path, typer.Option("--output", "-o", help="Directory for run-<id>.gpkg and .qgz.")
        ] = Path("."),
    ) -> None:
        """A run's derived layers and its inputs (at the versions it read) as GeoPackage and QGIS project."""
        import scenarios
        from app.qgis_export import export_run

        try:
            with engine().connect() as conn:
                export = export_run(
                    conn,
                    run_id,
                    output,
                    hmc_threshold=get_planning_settings().hmc_threshold,
                    basemap_url=get_web_settings().basemap_url,
                    area_title=get_work_area().title,
                )
        except scenarios.ScenarioError as exc:
            raise CliError(exc.message) from exc
        _report(export)
