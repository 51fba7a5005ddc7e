"""What a scenario run takes from the settings: the work area, the milieucategorie table, the
figure defaults and the raster engine (``RUIMTE_RASTER_*``, ``RUIMTE_DASK_SCHEDULER``).

``scenarios/`` reads no settings; the CLI and the web routes build a
:class:`scenarios.runner.RunContext` here and pass it in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.settings import (
    DaskSettings,
    PlanningSettings,
    RasterSettings,
    get_dask_settings,
    get_planning_settings,
    get_province_settings,
    get_raster_settings,
)

if TYPE_CHECKING:
    from layers.milieucategorie import MilieucategorieTable
    from scenarios.engine import Engine
    from scenarios.runner import RunContext


def milieucategorie_table(planning: PlanningSettings) -> MilieucategorieTable:
    """``RUIMTE_PLANNING_MILIEUCATEGORIE_TABLE`` if set, else the shipped VNG 2009 table."""
    from layers.milieucategorie import load_table

    return load_table(planning.milieucategorie_table)


def work_area() -> tuple[str, str]:
    """(code, name) of the work area (``RUIMTE_WORK_AREA``): the totals row of every run,
    ``("PV26", "Provincie Utrecht")`` or ``("NL", "Nederland")``."""
    return get_province_settings().province


def raster_engine(
    raster: RasterSettings | None = None,
    dask: DaskSettings | None = None,
    scheduler: str | None = None,
) -> Engine:
    """The raster engine of the settings; ``scheduler`` (``--scheduler``) overrides the
    ``RUIMTE_DASK_SCHEDULER`` of the chunked engine."""
    from scenarios.chunked import Chunked
    from scenarios.engine import InMemory

    raster = raster or get_raster_settings()
    if raster.engine == "memory":
        if scheduler:
            raise ValueError(
                "a Dask scheduler needs the chunked engine (RUIMTE_RASTER_ENGINE=chunked)"
            )
        return InMemory()
    address = scheduler or (dask or get_dask_settings()).scheduler
    return Chunked(chunk_cells=raster.chunk_cells, scheduler=address)


def run_context(
    planning: PlanningSettings | None = None, engine: Engine | None = None
) -> RunContext:
    """The run context of the settings (``planning``: the app's, else the environment's;
    ``engine``: else the settings' raster engine)."""
    from scenarios.runner import RunContext

    planning = planning or get_planning_settings()
    return RunContext(
        province=work_area(),
        table=milieucategorie_table(planning),
        figures=planning.figure_defaults(),
        engine=engine or raster_engine(),
    )
