"""The public API of ``scenarios`` (what the web service will call) and failed runs."""

from __future__ import annotations

import inspect

import pytest
from sqlalchemy import text

import scenarios
import scenarios.runner
from tests.helpers import run_context


def test_exported_members_exist_and_are_documented():
    for name in scenarios.__all__:
        member = getattr(scenarios, name)
        if callable(member):
            assert inspect.getdoc(member), name
    public = {n for n in dir(scenarios) if not n.startswith("_") and n.islower()}
    functions = {n for n in public if inspect.isfunction(getattr(scenarios, n))}
    assert functions <= set(scenarios.__all__)


def test_unknown_run_and_raster_are_not_found(demo_db):
    with demo_db.engine.connect() as conn:
        with pytest.raises(scenarios.RunNotFound) as info:
            scenarios.get_run(conn, 999_999)
        assert info.value.status == 404
        with pytest.raises(scenarios.RunNotFound):
            scenarios.get_run_raster(conn, 999_999, "allocation")


def test_a_failing_run_is_recorded_as_failed_and_stores_nothing_else(demo_db, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(scenarios.runner, "compute", broken)
    steps = []
    with pytest.raises(RuntimeError, match="disk full"):
        scenarios.run_scenario(
            demo_db.engine,
            "ruimte-voor-economie-industrie-10",
            run_context(),
            progress=lambda *a: steps.append(a[0]),
        )
    with demo_db.engine.connect() as conn:
        (run,) = scenarios.list_runs(conn, limit=1)
        assert run.status == "failed" and "disk full" in run.error
        assert "load" in run.timing and steps[:2] == ["validate", "load"]
        assert scenarios.get_run(conn, run.id).result is None
        layers = conn.execute(
            text("SELECT count(*) FROM layers WHERE name LIKE :p"), {"p": f"run-{run.id}-%"}
        )
        assert layers.scalar_one() == 0
        with pytest.raises(scenarios.ScenarioError, match="has no result"):
            scenarios.run_table_csv(conn, run.id)


def test_raster_by_name(demo_db):
    run = scenarios.run_scenario(demo_db.engine, "ruimte-voor-economie-industrie-10", run_context())
    with demo_db.engine.connect() as conn:
        tif = scenarios.get_run_raster(conn, run.id, "suitability")
        assert tif[:4] in (b"II*\x00", b"MM\x00*")
        with pytest.raises(
            scenarios.RasterNotFound, match="its rasters: allocation, constraints, suitability"
        ):
            scenarios.get_run_raster(conn, run.id, "hoogte")
        csv_text = scenarios.run_table_csv(conn, run.id)
    assert csv_text.splitlines()[0].startswith("niveau,statcode,naam")
    assert run.result.as_json()["per_gemeente"][0]["demand_industrie_ha"] >= 0
