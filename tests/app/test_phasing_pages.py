"""Phasing on the scenario page, the map, the CSV and the API, in headless Chromium
(issue 16, item 2): the first-shortage year per gemeente in Dutch, a chart per gemeente,
a layer per milestone."""

from __future__ import annotations

import copy

import httpx2 as httpx
import pytest

import scenarios
from app.runs import run_context
from scenarios.engine import InMemory

PRESET = "pbl-2023-bedrijventerreinen-40"
MILESTONES = [2030, 2035, 2040, 2050]


@pytest.fixture(scope="module")
def phased_run(demo_engine):
    raw = copy.deepcopy(scenarios.load_preset(PRESET).as_dict())
    raw["name"] = "fasering-pagina"
    raw["allocation"]["cell_size_m"] = 250
    raw["phasing"] = {"milestones": MILESTONES}
    return scenarios.run_scenario(demo_engine, raw, run_context(engine=InMemory()))


@pytest.fixture(scope="module")
def served(phased_run, live_server):
    return live_server


def _dutch(value: float) -> str:
    return f"{value:,.1f}".replace(",", "X").replace(".", ",").replace("X", ".")


def test_the_scenario_page_shows_the_first_shortage_year_in_dutch(served, phased_run, page):
    response = page.page.goto(f"{served.url}/scenario/{phased_run.id}", wait_until="networkidle")
    assert response.status == 200
    assert page.errors == [] and page.outside == []
    assert page.page.locator("#fasering").inner_text() == "Fasering"
    table = page.page.locator("#fasering-tabel")
    headers = table.locator("thead th").all_inner_texts()
    assert headers[:2] == ["Gemeente", "Eerste tekort"]
    assert [f"Balans {y}" for y in MILESTONES] == headers[2:6]
    assert "Toegewezen t/m 2050" in headers
    ph = phased_run.result.phasing
    assert ph is not None and ph.staged
    places = [ph.totals, *ph.per_gemeente]
    for place in places:
        row = table.locator(f"tr[data-statcode='{place.statcode}']")
        cells = row.locator("td").all_inner_texts()
        assert cells[0] == place.naam
        expected = str(place.first_shortage) if place.first_shortage is not None else "geen"
        assert cells[1] == expected
        assert cells[2:6] == [_dutch(m.balance_ha) for m in place.milestones]
    # at least one gemeente runs short and one does not, in the demo data
    firsts = {p.first_shortage for p in ph.per_gemeente}
    assert firsts & set(MILESTONES) and None in firsts
    body = page.page.inner_text("body")
    assert "lineair van het basisjaar naar het zichtjaar" in body
    chart = page.page.locator("figure.chart svg[aria-label*='per mijlpaal']")
    assert chart.count() == 1
    text = chart.text_content()
    assert "eerste tekort" in text and "geen tekort" in text and "ruimtevraag" in text
    assert chart.locator("polyline").count() == 2 * len(ph.per_gemeente)


def test_the_map_lists_a_layer_per_milestone(served, phased_run, page):
    page.page.goto(f"{served.url}/kaart/scenario/{phased_run.id}", wait_until="networkidle")
    page.page.wait_for_selector(".leaflet-overlay-pane path", timeout=15_000)
    assert page.errors == [] and page.outside == []
    # the layer control (collapsed to a button: its text content) lists every milestone
    control = page.page.locator(".leaflet-control-layers").text_content()
    for year in MILESTONES:
        assert f"Toegewezen t/m {year} (run {phased_run.id})" in control
    # the last one is shown, so the legend names it
    legend = page.page.inner_text(".leaflet-control-container")
    assert f"Toegewezen t/m {MILESTONES[-1]} (run {phased_run.id})" in legend
    assert f"Toegewezen t/m {MILESTONES[0]} (run {phased_run.id})" not in legend
    # the allocation at once for the horizon is listed, not shown over the staged one
    assert f"Toegewezen nieuwe ruimte (run {phased_run.id})" in control
    assert f"Toegewezen nieuwe ruimte (run {phased_run.id})" not in legend
    # the time slider: one position per milestone, the last chosen; moving it shows another
    slider = page.page.locator(".rc-time input[type=range]")
    assert slider.count() == 1
    assert page.page.locator(".rc-time-ticks").inner_text().split() == [str(y) for y in MILESTONES]
    assert page.page.locator(".rc-time-year").inner_text() == "2050"
    assert page.page.get_by_label("Toegewezen t/m", exact=True).count() == 1
    slider.fill("0")
    assert page.page.locator(".rc-time-year").inner_text() == "2030"
    assert slider.get_attribute("aria-valuetext") == "2030"
    page.page.wait_for_function(
        "document.querySelector('.leaflet-control-container').innerText"
        f".includes('Toegewezen t/m 2030 (run {phased_run.id})')"
    )
    legend = page.page.inner_text(".leaflet-control-container")
    assert f"Toegewezen t/m 2050 (run {phased_run.id})" not in legend
    assert page.errors == []


def test_the_csv_the_api_and_the_raster_carry_the_phasing(served, phased_run):
    csv_text = httpx.get(f"{served.url}/api/runs/{phased_run.id}/table.csv").text
    header = csv_text.splitlines()[0].split(",")
    assert {"first_shortage", "m2030_balance_ha", "m2050_allocated_ha"} <= set(header)
    doc = httpx.get(f"{served.url}/api/runs/{phased_run.id}").json()
    result = doc.get("result", doc)
    assert result["phasing"]["milestones"] == MILESTONES
    tif = httpx.get(f"{served.url}/api/runs/{phased_run.id}/rasters/fasering.tif")
    assert tif.status_code == 200 and tif.content[:2] in (b"II", b"MM")
    layer = phased_run.output_layers["fasering"]
    features = httpx.get(f"{served.url}/api/layers/{layer}/features?mijlpaal=2030").json()
    assert {f["properties"]["mijlpaal"] for f in features["features"]} <= {2030}


def test_the_report_has_the_fasering_table(served, phased_run):
    html = httpx.get(f"{served.url}/scenario/{phased_run.id}/rapport").text
    assert 'id="fasering-tabel"' in html and "Eerste tekort" in html
    first = phased_run.result.phasing.per_gemeente[0]
    expected = str(first.first_shortage) if first.first_shortage is not None else "geen"
    assert f'data-statcode="{first.statcode}"><td>{first.naam}</td>' in html
    assert expected in html
