"""Readable maps (issue 12, item 1) in headless Chromium: collapsed controls take little room,
expanded ones never overlap, lines have no fill, legends list the classes the data has, every
number is Dutch (years as 2025), gemeente names beside codes, no focus rectangle, and a note
when there is no basemap.

Screenshots: ``RUIMTE_SCREENSHOTS=dir pytest tests/app/test_maps_readable.py -k screenshots``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.app.conftest import TOKEN, LiveServer, make_app
from tests.app.test_maps_browser import open_map

pytestmark = [pytest.mark.slow, pytest.mark.db]

PRESET = "pbl-2023-bedrijventerreinen-40"
SMALL = {"width": 1024, "height": 700}
LARGE = {"width": 1400, "height": 900}

#: A Dutch number: 1.760,0 / 24,8 / -3 / +4,2 / 25,4%, optionally with "ha".
DUTCH = re.compile(r"^[-−+]?\d{1,3}(\.\d{3})*(,\d+)?( ?%| ha)?$")
#: An English-style decimal (1760.0, 191.53, 5.12345) outside Dutch grouping.
ENGLISH = re.compile(r"(?<![\d.,])\d+\.(\d{1,2}|\d{4,})(?![\d.])")
#: Columns and popup rows holding codes (milieucategorie 4.2, ids, CBS codes), not numbers.
CODE_LABEL = re.compile(r"milieucategorie|\bid\b|^fid$|code|sbi", re.IGNORECASE)


@pytest.fixture(scope="module")
def runs(client):
    """Two runs of the preset (the map lists the other run as a group of its own)."""
    ids = []
    for _ in range(2):
        resp = client.post(
            f"/api/scenarios/{PRESET}/runs", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()["id"])
    return ids


def _page(browser, viewport):
    context = browser.new_context(viewport=viewport, locale="nl-NL")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    return context, pg, errors


def _open(pg, url):
    pg.goto(url)
    pg.wait_for_function(
        "() => window.L && document.querySelectorAll('.leaflet-overlay-pane path').length > 0"
    )
    pg.wait_for_load_state("networkidle")
    pg.wait_for_timeout(300)


MAP_JS = "() => { for (const k in window) { if (window[k] instanceof L.Map) return k; } }"

#: Rectangles of the map, the layer control and the legend, and the area all controls cover.
BOXES = """(name) => {
    const map = window[name], r = e => { const b = e.getBoundingClientRect();
        return {x: b.x, y: b.y, right: b.right, bottom: b.bottom, w: b.width, h: b.height}; };
    const controls = [...map.getContainer().querySelectorAll('.leaflet-control')]
        .filter(e => e.offsetParent !== null && !e.hidden);
    return {
        map: r(map.getContainer()),
        layers: r(map._rcLayers.getContainer()),
        legend: r(map._rcLegend.getContainer()),
        covered: controls.reduce((s, e) => s + e.offsetWidth * e.offsetHeight, 0),
    };
}"""

#: Expand the layer control with every group open, and the legend.
EXPAND_ALL = """(name) => {
    const map = window[name];
    map._rcLayers.expand();
    map._rcLegend.setOpen(true);
    map.getContainer().querySelectorAll('.rc-group-head[aria-expanded=false]').forEach(b => b.click());
    map._rcLayers.expand();
}"""


def _overlap(a, b) -> bool:
    return not (
        a["right"] <= b["x"]
        or b["right"] <= a["x"]
        or a["bottom"] <= b["y"]
        or b["bottom"] <= a["y"]
    )


@pytest.mark.parametrize("viewport", [SMALL, LARGE], ids=["1024x700", "1400x900"])
def test_kaart_controls_small_when_collapsed_apart_when_expanded(
    browser, live_server, runs, viewport
):
    context, pg, errors = _page(browser, viewport)
    try:
        _open(pg, f"{live_server.url}/kaart")
        name = pg.evaluate(MAP_JS)
        # Collapsed (the layer control starts collapsed; the legend is folded by its button).
        pg.evaluate("(n) => window[n]._rcLegend.setOpen(false)", name)
        boxes = pg.evaluate(BOXES, name)
        area = boxes["map"]["w"] * boxes["map"]["h"]
        assert boxes["covered"] < 0.10 * area, boxes
        assert boxes["layers"]["w"] * boxes["layers"]["h"] < 0.01 * area
        # Expanded, every group open: control and legend never overlap, both inside the map.
        pg.evaluate(EXPAND_ALL, name)
        pg.wait_for_timeout(100)
        boxes = pg.evaluate(BOXES, name)
        assert not _overlap(boxes["layers"], boxes["legend"]), boxes
        for key in ("layers", "legend"):
            assert (
                boxes[key]["bottom"] <= boxes["map"]["bottom"]
                and boxes[key]["y"] >= boxes["map"]["y"]
            )
        # The legend still shows at least a few rows, the control scrolls.
        assert boxes["legend"]["h"] > 80
    finally:
        context.close()
    assert errors == []


def test_default_state_at_1024x700_covers_little(browser, live_server):
    context, pg, _ = _page(browser, SMALL)
    try:
        _open(pg, f"{live_server.url}/kaart")
        boxes = pg.evaluate(BOXES, pg.evaluate(MAP_JS))
    finally:
        context.close()
    assert boxes["covered"] < 0.10 * boxes["map"]["w"] * boxes["map"]["h"], boxes


def test_layer_control_is_grouped_and_shows_only_the_selected_run(page, live_server, runs):
    first, second = runs
    pg = open_map(page, f"{live_server.url}/kaart?run={second}")
    groups = [g.strip() for g in pg.locator(".rc-group-name").all_inner_texts()]
    for g in ("Beleid", "Bedrijventerreinen", "Randvoorwaarden"):
        assert g in groups
    assert (
        f"Scenario run {first}: {PRESET}" in groups and f"Scenario run {second}: {PRESET}" in groups
    )
    checked = pg.evaluate(
        """() => [...document.querySelectorAll('.rc-layer-group')].map(g => [
            g.querySelector('.rc-group-name').textContent,
            [...g.querySelectorAll('input')].filter(i => i.checked).length,
            !g.querySelector('.rc-group-body').hidden])"""
    )
    by_group = {name: (on, open_) for name, on, open_ in checked}
    assert by_group[f"Scenario run {second}: {PRESET}"][0] >= 1
    assert by_group[f"Scenario run {first}: {PRESET}"] == (0, False)
    assert by_group["Beleid"][0] >= 1 and by_group["Beleid"][1]
    # A group head folds its group and counts the layers shown.
    head = pg.locator(".rc-group-head", has_text="Beleid")
    count = head.locator(".rc-group-count").inner_text()
    assert re.fullmatch(r"\d+/\d+", count)
    pg.evaluate(
        "() => { for (const k in window) if (window[k] instanceof L.Map) window[k]._rcLayers.expand(); }"
    )
    head.click()
    assert head.get_attribute("aria-expanded") == "false"
    assert page.errors == [] and page.outside == []


def test_scenario_map_lists_other_runs_switched_off(page, live_server, runs):
    first, second = runs
    pg = open_map(page, f"{live_server.url}/kaart/scenario/{first}")
    groups = [g.strip() for g in pg.locator(".rc-group-name").all_inner_texts()]
    assert groups[0] == f"Scenario run {first}: {PRESET}"
    assert f"Scenario run {second}: {PRESET}" in groups
    other = pg.locator(".rc-layer-group", has_text=f"Scenario run {second}:")
    assert other.locator("input:checked").count() == 0
    assert page.errors == [] and page.outside == []


def test_line_features_are_not_filled(page, live_server):
    pg = open_map(page, f"{live_server.url}/kaart")
    found = pg.evaluate(
        """() => { const out = {lines: 0, filled: 0, areas: 0};
        for (const k in window) { const lyr = window[k];
            if (!lyr || !lyr.rcOptions || !lyr.eachLayer || !lyr._map) continue;
            lyr.eachLayer(f => { if (!f._path || !f.feature) return;
                const t = f.feature.geometry.type;
                if (/LineString/.test(t)) { out.lines++; if (f._path.getAttribute('fill') !== 'none') out.filled++; }
                else if (/Polygon/.test(t) && f._path.getAttribute('fill') !== 'none') out.areas++;
            }); }
        return out; }"""
    )
    assert found["lines"] > 0 and found["filled"] == 0, found
    assert found["areas"] > 0
    # The legend shows the verbinding as a line.
    row = pg.locator(".rc-legend-row", has_text="Verbinding (keten)")
    assert row.locator(".rc-swatch.rc-line").count() == 1


def test_legend_has_only_the_classes_of_the_data(page, live_server):
    pg = open_map(page, f"{live_server.url}/kaart/gemeente/GM0344")
    pg.evaluate(
        "() => { for (const k in window) if (window[k] instanceof L.Map) window[k]._rcLegend.setOpen(true); }"
    )
    legend = pg.locator(".rc-legend").inner_text()
    assert "Hoge milieucategorie" in legend
    assert "Lagere milieucategorie" not in legend
    assert page.errors == [] and page.outside == []


def test_balance_legend_diverges_from_the_data(page, live_server, client, runs):
    run = runs[0]
    rows = client.get(f"/api/runs/{run}").json()["result"]["per_gemeente"]
    balances = [r["balance_ha"] for r in rows]
    pg = open_map(page, f"{live_server.url}/kaart/scenario/{run}")
    pg.evaluate(
        "() => { for (const k in window) if (window[k] instanceof L.Map) window[k]._rcLegend.setOpen(true); }"
    )
    entries = pg.evaluate(
        """() => [...document.querySelectorAll('.rc-legend-row')].map(r => {
            const s = r.querySelector('.rc-swatch'), cs = getComputedStyle(s);
            return [r.textContent, cs.backgroundColor, cs.borderTopColor, s.offsetWidth]; })"""
    )
    labels = [e[0] for e in entries]
    assert any(label.startswith("In balans") for label in labels)
    for label, bg, border, width in entries:
        if label.startswith(("Tekort", "Overschot", "In balans")):
            assert width > 0 and bg not in ("rgba(0, 0, 0, 0)", "transparent"), label
            assert border != "rgba(0, 0, 0, 0)", label
    top_surplus = [label for label in labels if label.startswith("Overschot")]
    top_deficit = [label for label in labels if label.startswith("Tekort")]
    largest_surplus = max(balances)
    if largest_surplus >= 0.5:
        assert top_surplus, labels
        upper = float(
            top_surplus[0]
            .split("–")[1]
            .replace("ha", "")
            .strip()
            .replace(".", "")
            .replace(",", ".")
        )
        assert abs(upper - largest_surplus) <= 0.05 + 1e-9, (labels, largest_surplus)
    else:
        assert not top_surplus
    if min(balances) <= -0.5:
        upper = float(
            top_deficit[-1]
            .split("–")[1]
            .replace("ha", "")
            .strip()
            .replace(".", "")
            .replace(",", ".")
        )
        assert abs(upper + min(balances)) <= 0.05 + 1e-9, (labels, min(balances))
    # Each gemeente is drawn in its class's colour: fills are not all white.
    fills = set(
        pg.evaluate(
            "() => [...document.querySelectorAll('.leaflet-overlay-pane path')]"
            ".map(p => p.getAttribute('fill'))"
        )
    )
    assert len(fills - {"none"}) >= 2
    assert page.errors == [] and page.outside == []


#: Every popup's rows as [title, [label, value], ...] (the popups of all shown kaartlagen).
POPUP_ROWS = """() => { const out = [];
    for (const k in window) { const lyr = window[k];
        if (!lyr || !lyr.rcOptions || !lyr.eachLayer || !lyr._map) continue;
        let n = 0;
        lyr.eachLayer(f => { if (!f.getPopup || !f.getPopup() || n++ > 40) return;
            f.openPopup();
            const box = f.getPopup()._contentNode;  // the closed one fades out for 200 ms
            if (box) out.push([...box.querySelectorAll('tr')].map(tr =>
                [tr.querySelector('th').textContent, tr.querySelector('td').textContent]));
            f.closePopup(); }); }
    return out; }"""


def _check_value(label: str, value: str, where: str) -> None:
    if "jaar" in label.lower():
        assert re.fullmatch(r"\d{4}|–", value), f"{where}: {label} = {value}"
    elif CODE_LABEL.search(label):
        return
    elif re.fullmatch(r"[-−+]?[\d.,]+( ?%| ha)?", value):
        assert DUTCH.match(value), f"{where}: {label} = {value}"


def test_popup_numbers_years_and_gemeente_names(page, live_server, runs):
    seen = {"numbers": 0, "years": 0, "names": 0}
    for url in ("/kaart", "/kaart/gemeente/GM0344", f"/kaart/scenario/{runs[0]}"):
        pg = open_map(page, live_server.url + url)
        for rows in pg.evaluate(POPUP_ROWS):
            for label, value in rows:
                _check_value(label, value, url)
                seen["numbers"] += bool(re.search(r"\d,\d", value))
                seen["years"] += bool("jaar" in label.lower() and re.fullmatch(r"\d{4}", value))
                seen["names"] += bool(re.fullmatch(r".+ \(GM\d{4}\)", value))
    assert seen["numbers"] > 10 and seen["years"] > 0 and seen["names"] > 0, seen
    assert page.errors == [] and page.outside == []


#: The page's text outside tables and code, and its tables as (headers, rows).
PAGE_TEXT = """() => {
    const main = document.querySelector('main');
    const tables = [...main.querySelectorAll('table')].map(t => {
        const heads = [...t.querySelectorAll('thead th')].map(th => th.textContent.trim());
        const rows = [...t.querySelectorAll('tbody tr, tr')].map(tr =>
            [...tr.children].map(c => [c.tagName, c.textContent.trim()]));
        return [heads, rows]; });
    const skip = 'table, code, .meta, svg, select, script, style';
    const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
    const texts = [];
    while (walker.nextNode()) {
        const n = walker.currentNode;
        if (!n.parentElement.closest(skip)) texts.push(n.textContent);
    }
    const chart = [...main.querySelectorAll('svg text')].map(t => t.textContent);
    return {text: texts.join('\\n'), tables: tables, chart: chart};
}"""


#: Versions of standards in link texts ("SLD 1.0"), not numbers.
STANDARD_VERSION = re.compile(r"\b[A-Z]{2,}[a-z]*\s+\d+(\.\d+)+")


def _check_page(data: dict, where: str) -> int:
    bad = [m.group() for m in ENGLISH.finditer(STANDARD_VERSION.sub("", data["text"]))]
    assert bad == [], f"{where}: {bad}"
    numbers = 0
    for heads, rows in data["tables"]:
        for row in rows:
            cells = [text for tag, text in row if tag == "TD"]
            labels = (
                heads if heads and len(heads) == len(row) else [t for tag, t in row if tag == "TH"]
            )
            if not heads:  # a two-column table: th label, td value
                if len(row) == 2 and row[0][0] == "TH":
                    _check_value(row[0][1], row[1][1], where)
                continue
            for label, (tag, text) in zip(labels, row, strict=False):
                if tag == "TD":
                    _check_value(label, text, where)
                    numbers += bool(re.fullmatch(r"[-−+]?[\d.,]+", text))
            del cells
    for text in data["chart"]:
        if text.endswith(" ha"):
            assert DUTCH.match(text), f"{where} chart: {text}"
    return numbers


def test_pages_print_numbers_the_dutch_way(page, live_server, runs):
    run = runs[0]
    pg = page.page
    for url in (
        "/",
        f"/scenario/{run}",
        "/ogc/collections/bedrijventerreinen?f=html",
        "/ogc/collections/bedrijventerreinen/items?f=html&limit=50",
        "/ogc/collections/strategische_locaties/items?f=html&limit=50",
        "/ogc/collections/vestigingen/items?f=html&limit=20",
    ):
        pg.goto(live_server.url + url)
        data = pg.evaluate(PAGE_TEXT)
        numbers = _check_page(data, url)
        assert numbers > 0 or "collections/bedrijventerreinen?" in url, url
    # Index: a feature count of thousands is grouped; the scenario page prints its years plainly.
    pg.goto(live_server.url + "/")
    assert re.search(r"\b\d\.\d{3}\b", pg.locator("#lagen").inner_text())
    pg.goto(f"{live_server.url}/scenario/{run}")
    lead = pg.locator(".lead").inner_text()
    assert re.search(r"basisjaar 20\d\d – zichtjaar 20\d\d", lead), lead
    assert not re.search(r"\b2\.0\d\d\b", lead)
    # An OGC item: bruto_ha with a decimal comma.
    pg.goto(f"{live_server.url}/ogc/collections/bedrijventerreinen/items?f=html&limit=1")
    pg.goto(pg.locator("table.data tbody a").first.get_attribute("href"))
    _check_page(pg.evaluate(PAGE_TEXT), "ogc item")
    assert page.errors == [] and page.outside == []


def test_no_focus_rectangle_after_a_click(page, live_server):
    pg = open_map(page, f"{live_server.url}/kaart/gemeente/GM0344")
    target = pg.locator(".leaflet-overlay-pane path.leaflet-interactive").last
    target.click(force=True)
    pg.locator(".leaflet-popup-content").wait_for()
    styles = pg.evaluate(
        """() => [...document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive')]
            .map(p => { p.focus(); const cs = getComputedStyle(p); return cs.outlineStyle + ' ' + cs.outlineWidth; })"""
    )
    assert styles and all(s.startswith("none") or s.endswith(" 0px") for s in styles), set(styles)


def test_note_without_basemap(page, live_server):
    """The test server has no basemap (offline): the map says so, outlines drawn."""
    pg = open_map(page, f"{live_server.url}/kaart")
    note = pg.locator(".rc-note")
    note.wait_for()
    assert "Geen achtergrondkaart" in note.inner_text()
    assert pg.evaluate(
        """() => { for (const k in window) { const l = window[k];
            if (l && l.rcOptions && l.rcOptions.kind === 'gemeenten') return !!l._map; } }"""
    )


@pytest.fixture(scope="module")
def unreachable_basemap_server(demo_engine):
    """A server whose basemap URL answers nothing (port 9 on 127.0.0.1)."""
    with LiveServer(make_app(demo_engine, basemap="http://127.0.0.1:9/{z}/{x}/{y}.png")) as server:
        yield server


def test_note_when_basemap_tiles_fail(page, unreachable_basemap_server):
    pg = page.page
    pg.goto(f"{unreachable_basemap_server.url}/kaart")
    note = pg.locator(".rc-note")
    note.wait_for(timeout=10_000)
    assert "achtergrondkaart kan niet worden geladen" in note.inner_text()
    assert pg.locator(".leaflet-overlay-pane path").count() > 0


SCREENSHOT_DIR = os.environ.get("RUIMTE_SCREENSHOTS")


@pytest.mark.skipif(not SCREENSHOT_DIR, reason="set RUIMTE_SCREENSHOTS to a directory")
def test_screenshots(browser, live_server, runs):
    out = Path(SCREENSHOT_DIR)
    out.mkdir(parents=True, exist_ok=True)
    run = runs[0]
    pages = {
        "kaart": "/kaart",
        "kaart-gemeente-GM0344": "/kaart/gemeente/GM0344",
        f"kaart-scenario-{run}": f"/kaart/scenario/{run}",
        f"scenario-{run}": f"/scenario/{run}",
    }
    for size, viewport in (("1400x900", LARGE), ("1024x700", SMALL)):
        for name, url in pages.items():
            context, pg, _ = _page(browser, viewport)
            try:
                if url.startswith("/kaart"):
                    _open(pg, live_server.url + url)
                    pg.screenshot(path=str(out / f"{name}-{size}.png"))
                    map_name = pg.evaluate(MAP_JS)
                    pg.evaluate(EXPAND_ALL, map_name)
                    pg.wait_for_timeout(150)
                    pg.screenshot(path=str(out / f"{name}-{size}-expanded.png"))
                else:
                    pg.goto(live_server.url + url)
                    pg.screenshot(path=str(out / f"{name}-{size}.png"), full_page=True)
            finally:
                context.close()
