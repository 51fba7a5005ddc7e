"""The bands of an ensemble on the scenario page and map, in headless Chromium (issue 16)."""

from __future__ import annotations

import copy

import httpx2 as httpx
import pytest

import scenarios
from app.runs import run_context
from scenarios.engine import InMemory

PRESET = "pbl-2023-bedrijventerreinen-40"


@pytest.fixture(scope="module")
def ensemble_run(demo_engine):
    raw = copy.deepcopy(scenarios.load_preset(PRESET).as_dict())
    raw["name"] = "bandbreedte-pagina"
    raw["allocation"]["cell_size_m"] = 250
    raw["demand"]["categories"][0]["growth_pct"] = {"min": 10, "max": 15}
    raw["ensemble"] = {"samples": 8, "seed": 5}
    return scenarios.run_scenario(demo_engine, raw, run_context(engine=InMemory()))


@pytest.fixture(scope="module")
def served(ensemble_run, live_server):
    return live_server


def test_the_scenario_page_shows_the_bands_in_dutch(served, ensemble_run, page):
    url = f"{served.url}/scenario/{ensemble_run.id}"
    response = page.page.goto(url, wait_until="networkidle")
    assert response.status == 200
    assert page.errors == [] and page.outside == []
    section = page.page.locator("#bandbreedte")
    assert section.inner_text() == "Bandbreedte: 8 varianten"
    body = (
        page.page.inner_text("main")
        if page.page.locator("main").count()
        else page.page.inner_text("body")
    )
    assert "groei bedrijventerreinen (%)" in body and "10 tot 15" in body
    assert "Kans op tekort" in body and "Robuust (ha)" in body
    totals = ensemble_run.result.ensemble.totals
    p50 = f"{totals.demand_ha.p50:,.1f}".replace(",", "X").replace(".", ",").replace("X", ".")
    assert p50 in body  # Dutch number format
    chart = page.page.locator("figure.chart svg[aria-label*='p10–p90']")
    assert chart.count() == 1
    assert chart.locator("rect").count() == len(ensemble_run.result.per_gemeente)


def test_the_map_lists_how_often_cells_are_allocated(served, ensemble_run, page):
    url = f"{served.url}/kaart/scenario/{ensemble_run.id}"
    page.page.goto(url, wait_until="networkidle")
    page.page.wait_for_selector(".leaflet-overlay-pane path", timeout=15_000)
    assert page.errors == [] and page.outside == []
    legend = page.page.inner_text(".leaflet-control-container")
    assert "Hoe vaak toegewezen (bandbreedte)" in legend and "Robuust" in legend


def test_the_csv_and_the_api_carry_the_bands(served, ensemble_run):
    csv_text = httpx.get(f"{served.url}/api/runs/{ensemble_run.id}/table.csv").text
    header = csv_text.splitlines()[0].split(",")
    assert {"demand_p10_ha", "balance_p90_ha", "p_shortage", "robust_ha"} <= set(header)
    doc = httpx.get(f"{served.url}/api/runs/{ensemble_run.id}").json()
    result = doc.get("result", doc)
    assert result["ensemble"]["samples"] == 8
    assert len(result["ensemble"]["per_gemeente"]) == len(result["per_gemeente"])
    tif = httpx.get(f"{served.url}/api/runs/{ensemble_run.id}/rasters/frequentie.tif")
    assert tif.status_code == 200 and tif.content[:2] in (b"II", b"MM")


def test_the_scenario_page_shows_the_strategische_locaties_2035_indicator(served, ensemble_run):
    html = httpx.get(f"{served.url}/scenario/{ensemble_run.id}").text
    sl = ensemble_run.result.indicators.strategische_locaties
    assert sl is not None and sl.year == 2035
    assert "Strategische locaties beschikbaar in 2035" in html and "geen doel" in html
