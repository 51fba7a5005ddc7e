"""The typed result loads what today's code stored, and the new code stores the same JSON.

The fixtures in ``data/`` were written by the code before the result was typed (main at
748f902): the stored result of the +40% preset on the demo database, and the computation of
the toy world of ``test_compute`` allocated per region.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

import scenarios
from scenarios.compute import compute, compute_figures
from scenarios.result import RunResult
from tests.helpers import run_context
from tests.scenarios.test_compute import TABLE, spec, world

DATA = Path(__file__).parent / "data"


def stored(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["run_result_main_demo.json", "run_result_main_toy_regions.json"])
def test_a_result_stored_by_the_old_code_loads_and_dumps_back_unchanged(name):
    data = stored(name)
    result = RunResult.model_validate(data)
    assert result.as_json() == data
    assert result.totals.demand_ha == data["totals"]["demand_ha"]
    first = data["per_gemeente"][0]
    assert result.per_gemeente[0].statcode == first["statcode"]
    # the spec's own columns are kept and readable by name
    own = next(k for k in first if k.startswith("demand_") and k != "demand_ha")
    assert result.per_gemeente[0].figure(own) == first[own]


def test_the_new_code_computes_the_json_the_old_code_did():
    s = spec(
        regions={"Samen": ["GM0001", "GM0002"]},
        allocation={"cell_size_m": 50, "unit": "region", "criteria": []},
    )
    comp = compute(s, world(), TABLE, province=("PV26", "Provincie Utrecht"))
    assert comp.result.as_json() == stored("run_result_main_toy_regions.json")
    (region,) = comp.result.regions
    assert region.region == "Samen" and region.gemeenten == ["GM0001", "GM0002"]


def test_figures_only_share_the_figures_step_and_have_no_allocation():
    full = compute(spec(), world(), TABLE, province=("PV99", "Proef")).result
    figures = compute_figures(spec(), world(), TABLE, province=("PV99", "Proef"))
    assert figures.result.allocation is None and figures.result.milieuzonering is None
    assert not figures.rasters and set(figures.timing) == {
        "current",
        "demand",
        "supply",
        "balance",
        "indicators",
    }
    assert figures.result.totals.demand_ha == full.totals.demand_ha
    assert [r.uncovered_ha for r in figures.result.per_gemeente] == [
        r.uncovered_ha for r in full.per_gemeente
    ]


def test_a_run_stored_by_the_old_code_reads_through_the_api(demo_db):
    run = scenarios.run_scenario(demo_db.engine, "ruimte-voor-economie-industrie-10", run_context())
    old = stored("run_result_main_demo.json")
    with demo_db.engine.begin() as conn:
        conn.execute(
            text("UPDATE scenario_runs SET result = CAST(:r AS jsonb) WHERE id = :id"),
            {"r": json.dumps(old), "id": run.id},
        )
    with demo_db.engine.connect() as conn:
        again = scenarios.get_run(conn, run.id)
        assert again.as_dict()["result"] == old
        assert again.result.totals.naam == "Provincie Utrecht"
        csv_text = scenarios.run_table_csv(conn, run.id)
    assert csv_text.count("\n") == 1 + len(old["per_gemeente"]) + 1
