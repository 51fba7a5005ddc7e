"""Scenario endpoints and pages against real PostGIS with the demo data."""

from __future__ import annotations

import csv
import io

import pytest
from rasterio.io import MemoryFile
from sqlalchemy import text

from tests.app.conftest import TOKEN
from tests.app.test_maps_browser import open_map

AUTH = {"Authorization": f"Bearer {TOKEN}"}
PRESET = "pbl-2023-bedrijventerreinen-40"


@pytest.fixture(scope="module")
def run_id(client):
    resp = client.post(f"/api/scenarios/{PRESET}/runs", headers=AUTH)
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def _counts(engine):
    with engine.connect() as conn:
        return {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("scenario_specs", "scenario_runs", "layers")
        }


def test_presets_listed(client):
    names = {p["name"] for p in client.get("/api/scenarios").json()["presets"]}
    assert {
        PRESET,
        "ruimte-voor-economie-industrie-10",
        "ruimte-voor-economie-industrie-15",
    } <= names


def test_run_result_is_consistent(client, run_id):
    doc = client.get(f"/api/runs/{run_id}").json()
    res = doc["result"]
    rows = res["per_gemeente"]
    assert len(rows) == 26
    for key in ("current_ha", "demand_ha", "supply_ha", "allocated_ha", "unmet_ha"):
        assert sum(r[key] for r in rows) == pytest.approx(res["totals"][key], abs=1e-6)
    for r in rows:
        assert r["demand_ha"] == pytest.approx(0.40 * r["current_ha"], rel=1e-9)
    rels = {link["rel"] for link in doc["links"]}
    assert {"self", "alternate", "enclosure", "related"} <= rels


def test_run_csv_matches_json(client, run_id):
    res = client.get(f"/api/runs/{run_id}").json()["result"]
    resp = client.get(f"/api/runs/{run_id}/table.csv")
    assert resp.headers["content-type"].startswith("text/csv")
    rows = {r["statcode"]: r for r in csv.DictReader(io.StringIO(resp.text))}
    utrecht = next(r for r in res["per_gemeente"] if r["statcode"] == "GM0344")
    assert float(rows["GM0344"]["demand_ha"]) == pytest.approx(utrecht["demand_ha"], abs=0.01)


@pytest.mark.parametrize("name", ["suitability", "allocation", "constraints"])
def test_rasters_are_geotiffs_in_rd(client, run_id, name):
    resp = client.get(f"/api/runs/{run_id}/rasters/{name}.tif")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("image/tiff")
    with MemoryFile(resp.content) as mem, mem.open() as ds:
        assert ds.crs.to_epsg() == 28992
        assert ds.nodata is not None
        assert ds.res == (25.0, 25.0)
        assert ds.overviews(1)


def test_compare_and_indicators(client, run_id):
    cmp = client.get(f"/api/runs/compare?a={run_id}&b={run_id}").json()
    assert cmp  # same run: every difference is zero
    assert all(
        abs(v) < 1e-9
        for v in _numbers(cmp.get("totals", {}).get("difference", cmp.get("totals", {})))
    )
    ind = client.get("/api/indicators").json()
    assert 0 <= ind["hmc_benutting"]["pct"] <= 100
    assert ind["landgebruik"]["total_ha"] > 150_000


def _numbers(obj):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k.endswith("_ha") or k.startswith("d_"):
                yield from _numbers(v)
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield obj


def test_invalid_spec_lists_every_problem_and_stores_nothing(client, demo_engine):
    before = _counts(demo_engine)
    spec = {
        "name": "kapot",
        "title": "Kapot",
        "base_year": 2030,
        "horizon_year": 2025,
        "layers": {"gemeenten": "bestaat_niet", "bedrijventerreinen": "bedrijventerreinen"},
        "demand": {
            "basis": "bruto",
            "categories": [{"name": "bedrijventerreinen", "growth_pct": 40}],
        },
        "allocation": {
            "cell_size_m": 0,
            "criteria": [
                {
                    "name": "x",
                    "type": "proximity",
                    "weight": -1,
                    "max_distance_m": 100,
                    "layers": ["bedrijventerreinen"],
                }
            ],
        },
    }
    resp = client.post("/api/scenarios", json=spec, headers=AUTH)
    assert resp.status_code == 422 and resp.headers["content-type"] == "application/problem+json"
    locs = [".".join(map(str, e["loc"])) for e in resp.json()["errors"]]
    text_ = " ".join(locs) + " ".join(e["message"] for e in resp.json()["errors"])
    assert (
        "horizon" in text_
        and "bestaat_niet" in text_
        and "cell_size_m" in text_
        and "weight" in text_
    )
    assert _counts(demo_engine) == before
    assert client.post("/api/scenarios", json=spec).status_code == 401


def test_unknown_things_are_404(client):
    for url in (
        "/api/runs/999999",
        "/api/runs/999999/table.csv",
        "/scenario/999999",
        "/api/scenarios/onbekend",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post("/api/scenarios/onbekend/runs", headers=AUTH).status_code == 404


def test_scenario_page(client, run_id):
    html = client.get(f"/scenario/{run_id}").text
    assert "Per gemeente" in html and "Amersfoort" in html and "<svg" in html
    assert f"/api/runs/{run_id}/rasters/allocation.tif" in html


@pytest.mark.slow
def test_scenario_map_in_browser(page, live_server, run_id):
    pg = open_map(page, f"{live_server.url}/kaart/scenario/{run_id}")
    legend = pg.locator(".rc-legend").inner_text()
    assert "Tekort" in legend and "Overschot" in legend
    names = [
        s.strip()
        for s in pg.locator(".leaflet-control-layers-overlays label span").all_inner_texts()
    ]
    assert any(n.startswith("Balans per gemeente") for n in names)
    assert any(n.startswith("Toegewezen nieuwe ruimte") for n in names)
    assert page.errors == [] and page.outside == []


@pytest.mark.slow
def test_two_runs_side_by_side(page, live_server, run_id, client):
    other = client.post(
        "/api/scenarios/ruimte-voor-economie-industrie-15/runs", headers=AUTH
    ).json()["id"]
    page.page.goto(f"{live_server.url}/kaart/scenario/{run_id}?vergelijk={other}")
    page.page.wait_for_function(
        "() => document.querySelectorAll('.leaflet-container').length === 2"
    )
    page.page.wait_for_timeout(500)
    titles = page.page.locator(".rc-title").all_inner_texts()
    assert titles == [f"Run {run_id}: {PRESET}", f"Run {other}: ruimte-voor-economie-industrie-15"]
    assert page.errors == [] and page.outside == []
