"""``scenarios/`` reads no settings: the app passes the work area, the milieucategorie table
(``RUIMTE_PLANNING_MILIEUCATEGORIE_TABLE``) and the figure defaults in."""

from __future__ import annotations

import ast
import csv
from pathlib import Path

import pydantic
import pytest

import scenarios
from app.runs import run_context
from app.settings import PlanningSettings
from layers.milieucategorie import DEFAULT_TABLE
from tests.conftest import ROOT

PRESET = "ruimte-voor-economie-industrie-10"


def test_scenarios_import_nothing_of_the_app():
    offences = []
    for path in sorted((ROOT / "scenarios").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            offences += [
                f"{path.name}:{node.lineno} {n}" for n in names if n.split(".")[0] == "app"
            ]
    assert not offences


def doubled_table(path: Path) -> Path:
    """The shipped table with every richtafstand doubled."""
    with open(DEFAULT_TABLE, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        for column in ("richtafstand_rustig_m", "richtafstand_gemengd_m"):
            row[column] = str(2 * float(row[column]))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_the_milieucategorie_table_setting_is_what_a_run_uses(demo_db, tmp_path):
    table = doubled_table(tmp_path / "verdubbeld.csv")
    plain = scenarios.run_scenario(
        demo_db.engine, PRESET, run_context(PlanningSettings(_env_file=None))
    )
    wide = scenarios.run_scenario(
        demo_db.engine,
        PRESET,
        run_context(PlanningSettings(_env_file=None, milieucategorie_table=table)),
    )
    assert plain.result.as_json()["milieucategorie_table"] == DEFAULT_TABLE.name
    assert wide.result.as_json()["milieucategorie_table"] == "verdubbeld.csv"
    # twice the richtafstand around woongebieden: more free cells closed to new HMC space
    cells, wide_cells = (
        plain.result.as_json()["allocation"]["cells"],
        wide.result.as_json()["allocation"]["cells"],
    )
    assert wide_cells["free_not_hmc"] > 1.5 * cells["free_not_hmc"]
    assert (
        wide.result.as_json()["totals"]["naam"]
        == plain.result.as_json()["totals"]["naam"]
        == "Provincie Utrecht"
    )


def test_a_missing_table_is_an_error_naming_it(tmp_path):
    with pytest.raises(pydantic.ValidationError, match="nergens.csv is not a file"):
        PlanningSettings(milieucategorie_table=tmp_path / "nergens.csv")
