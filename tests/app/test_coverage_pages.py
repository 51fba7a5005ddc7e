"""Coverage of regional circular functions on the demo: the figures against PostGIS, the
scenario page and the map in headless Chromium, in Dutch, and bad specs named (issue 16)."""

from __future__ import annotations

import copy

import httpx2 as httpx
import pytest
from sqlalchemy import text

import scenarios
from app.runs import run_context
from scenarios.engine import InMemory
from scenarios.errors import SpecError

PRESET = "pbl-2023-bedrijventerreinen-40"
TYPES = {"sorteercentrum": {"reach_km": 15}, "upcyclecentrum": {"reach_km": 10}}


def _spec(**coverage) -> dict:
    raw = copy.deepcopy(scenarios.load_preset(PRESET).as_dict())
    raw["name"] = "dekking-pagina"
    raw["allocation"]["cell_size_m"] = 250
    raw["coverage"] = {"types": TYPES, "suggest": {"k": 2}, **coverage}
    return raw


def _current(name: str) -> str:
    return (
        "(SELECT f.* FROM features f JOIN layers l ON l.id = f.layer_id "
        f"WHERE l.name = '{name}' AND f.version_to IS NULL)"
    )


@pytest.fixture(scope="module")
def coverage_run(demo_engine):
    return scenarios.run_scenario(demo_engine, _spec(), run_context(engine=InMemory()))


@pytest.fixture(scope="module")
def served(coverage_run, live_server):
    return live_server


def test_distances_equal_postgis(coverage_run, demo_engine):
    """Area centroids and nearest distances computed by PostGIS, independently of the run."""
    cov = coverage_run.result.coverage
    assert cov is not None and cov.centroid == "oppervlakte"
    for t in cov.types:
        with demo_engine.connect() as conn:
            rows = conn.execute(
                text(
                    f"""SELECT g.properties->>'statcode' AS code,
                               min(ST_Distance(ST_Centroid(g.geom), s.geom)) / 1000 AS km
                        FROM {_current("gemeenten")} g, {_current("strategische_locaties")} s
                        WHERE s.properties->>'functie' = :type
                        GROUP BY 1"""
                ),
                {"type": t.type},
            ).all()
        expected = {code: km for code, km in rows}
        assert t.locations > 0 and len(expected) == len(t.per_gemeente)
        for row in t.per_gemeente:
            assert row.distance_km == pytest.approx(expected[row.statcode], abs=1e-3)
            assert row.covered == (expected[row.statcode] <= t.reach_km)
        assert t.uncovered == [r.statcode for r in t.per_gemeente if not r.covered]
        covered_now = {r.statcode for r in t.per_gemeente if r.covered}
        for site in t.suggestions:  # each suggestion covers gemeenten not covered before it
            assert site.covers and not covered_now & set(site.covers)
            covered_now |= set(site.covers)
    assert coverage_run.timing["coverage"] >= 0
    assert {"dekking-sorteercentrum", "dekking-upcyclecentrum"} <= set(coverage_run.output_layers)


def test_the_scenario_page_shows_coverage_in_dutch(served, coverage_run, page):
    response = page.page.goto(f"{served.url}/scenario/{coverage_run.id}", wait_until="networkidle")
    assert response.status == 200
    assert page.errors == [] and page.outside == []
    assert page.page.inner_text("#dekking") == "Bereik van regionale circulaire functies"
    types = page.page.inner_text("#dekking-types")
    assert "Sorteercentrum voor reststromen" in types and "Upcycle center" in types
    assert "15,0" in types  # Dutch number format
    cov = coverage_run.result.coverage
    per_gemeente = page.page.locator("#dekking-gemeenten tbody tr")
    assert per_gemeente.count() == len(cov.types[0].per_gemeente)
    assert any(t.uncovered for t in cov.types)  # the demo leaves gemeenten out of reach
    assert "(niet gedekt)" in page.page.inner_text("#dekking-gemeenten")
    sites = sum(len(t.suggestions) for t in cov.types)
    assert page.page.locator("#dekking-voorstellen tbody tr").count() == sites


def test_the_map_has_a_coverage_layer_per_type(served, coverage_run, page):
    page.page.goto(f"{served.url}/kaart/scenario/{coverage_run.id}", wait_until="networkidle")
    page.page.wait_for_selector(".leaflet-overlay-pane path", timeout=15_000)
    assert page.errors == [] and page.outside == []
    legend = page.page.inner_text(".leaflet-control-container")  # the layers switched on
    assert "Bereik Sorteercentrum voor reststromen" in legend
    assert "Gemeente niet binnen bereik" in legend
    # one coverage layer on at first (their circles overlap); the others in the layer control
    control = page.page.locator(".leaflet-control-layers").text_content()
    assert "Bereik Upcycle center" in control and "Bereik Upcycle center" not in legend


def test_the_api_carries_coverage(served, coverage_run):
    doc = httpx.get(f"{served.url}/api/runs/{coverage_run.id}").json()
    result = doc.get("result", doc)
    assert [t["type"] for t in result["coverage"]["types"]] == list(TYPES)
    layer = coverage_run.output_layers["dekking-sorteercentrum"]
    items = httpx.get(f"{served.url}/api/layers/{layer}/features").json()
    elements = {f["properties"]["element"] for f in items["features"]}
    assert "bereik" in elements


def test_another_function_field_of_the_layer_may_be_covered(demo_engine):
    raw = _spec(function_field="type", types={"hmc_multimodaal": {"reach_km": 20}})
    with demo_engine.connect() as conn:
        spec = scenarios.validate_spec(raw, conn)
    assert spec.coverage is not None and spec.coverage.function_field == "type"


@pytest.mark.parametrize(
    ("coverage", "message"),
    [
        ({"function_field": "functi"}, r"no field 'functi'.*did you mean 'functie'"),
        ({"population": {"layer": "gemeenten", "field": "inwonrs"}}, r"no field 'inwonrs'"),
        ({"layer": {"layer": "strategische_locatie"}}, r"strategische_locatie"),
        (
            {"function_field": "type", "types": {"hmc_multimodal": {"reach_km": 20}}},
            r"not a value of strategische_locaties.type.*did you mean 'hmc_multimodaal'",
        ),
    ],
)
def test_a_coverage_spec_the_database_cannot_serve_is_named(demo_engine, coverage, message):
    with demo_engine.connect() as conn, pytest.raises(SpecError, match=message):
        scenarios.validate_spec(_spec(**coverage), conn)


def test_comparing_runs_names_the_types_a_gemeente_lacks(coverage_run):
    from app.cli.scenario import _extra
    from scenarios.tables import compare_results

    result = coverage_run.result
    plain = result.model_copy(update={"coverage": None})
    diff = compare_results(plain, result, 1, coverage_run.id)
    assert diff["extras"] == ["not_covered"]
    lacking = next(t for t in result.coverage.types if t.uncovered)
    row = next(r for r in diff["per_gemeente"] if r["statcode"] == lacking.uncovered[0])
    assert row["not_covered_a"] is None and lacking.type in row["not_covered_b"]
    assert diff["totals"]["not_covered_b"] == sorted(
        t.type for t in result.coverage.types if t.uncovered
    )
    assert _extra(row["not_covered_a"]) == "-" and lacking.type in _extra(row["not_covered_b"])
    assert compare_results(plain, plain, 1, 1)["extras"] == []
