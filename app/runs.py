"""What a scenario run takes from the settings: the work area, the milieucategorie table, the
figure defaults and the raster engine. ``scenarios/`` reads no settings; the CLI and the web
routes build a :class:`scenarios.runner.RunContext` here and pass it in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.settings import PlanningSettings, get_planning_settings, get_province_settings

if TYPE_CHECKING:
    from layers.milieucategorie import MilieucategorieTable
    from scenarios.runner import RunContext


def milieucategorie_table(planning: PlanningSettings) -> MilieucategorieTable:
    """``RUIMTE_PLANNING_MILIEUCATEGORIE_TABLE`` if set, else the shipped VNG 2009 table."""
    from layers.milieucategorie import load_table

    return load_table(planning.milieucategorie_table)


def work_area() -> tuple[str, str]:
    """(code, name) of the work area: the totals row of every run."""
    province = get_province_settings()
    return province.statcode, f"Provincie {province.name}"


def run_context(planning: PlanningSettings | None = None) -> RunContext:
    """The run context of the settings (``planning``: the app's, else the environment's)."""
    from scenarios.runner import RunContext

    planning = planning or get_planning_settings()
    return RunContext(
        province=work_area(),
        table=milieucategorie_table(planning),
        figures=planning.figure_defaults(),
    )
