"""The maps in headless Chromium: Leaflet from the app, every layer in the control, popups,
no console errors, no request leaving 127.0.0.1."""

from __future__ import annotations

import re

import pytest

from layers.store import list_layers

pytestmark = pytest.mark.slow


def open_map(page, url: str):
    page.page.goto(url)
    page.page.wait_for_function(
        "() => window.L && document.querySelectorAll('.leaflet-overlay-pane path').length > 0"
    )
    page.page.wait_for_timeout(300)
    return page.page


def expand_layer_control(pg) -> None:
    """Open the (collapsed) layer control as a mouse does (hover), and every group in it."""
    pg.locator(".leaflet-control-layers").hover()
    for head in pg.locator(".rc-group-head[aria-expanded=false]").all():
        head.click()


def overlay_names(pg) -> list[str]:
    return [
        s.strip()
        for s in pg.locator(".leaflet-control-layers-overlays label span").all_inner_texts()
    ]


def test_kaart_renders_offline_with_every_layer(page, live_server, demo_engine):
    pg = open_map(page, f"{live_server.url}/kaart")
    assert pg.evaluate("() => typeof L.version") == "string"
    with demo_engine.connect() as conn:
        titles = {i.title for i in list_layers(conn)}
    assert set(overlay_names(pg)) == titles
    # Shown layers drew something; the legend names them in Dutch.
    assert pg.locator(".leaflet-overlay-pane path").count() > 300
    legend = pg.locator(".rc-legend").inner_text()
    assert "Hoge milieucategorie" in legend and "Hard (vastgesteld plan)" in legend
    # One scale bar, metric only.
    assert pg.locator(".leaflet-control-scale-line").count() == 1
    assert re.fullmatch(r"\d+ k?m", pg.locator(".leaflet-control-scale-line").inner_text().strip())
    assert page.errors == []
    assert page.outside == []


def test_popup_opens_with_dutch_labels(page, live_server):
    pg = open_map(page, f"{live_server.url}/kaart")
    pg.evaluate(
        """() => {
            for (const id in window) {
                const lyr = window[id];
                if (lyr && lyr.rcOptions && lyr.rcOptions.kind === 'bedrijventerreinen') {
                    const first = lyr.getLayers()[0];
                    first.openPopup();
                    return;
                }
            }
        }"""
    )
    popup = pg.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert "Maximale milieucategorie" in text and "Bruto oppervlakte (ha)" in text
    assert page.errors == [] and page.outside == []


def test_click_on_a_feature_opens_its_popup(page, live_server):
    pg = open_map(page, f"{live_server.url}/kaart/gemeente/GM0344")
    target = pg.locator(".leaflet-overlay-pane path").last
    target.click(force=True)
    pg.locator(".leaflet-popup-content").wait_for()
    assert re.search(r"Naam|Doel|Status", pg.locator(".leaflet-popup-content").inner_text())
    assert page.errors == [] and page.outside == []


def test_large_layer_loads_as_vector_tiles(page, live_server):
    html = page.page.request.get(f"{live_server.url}/kaart").text()
    assert len(html.encode()) < 1_000_000
    tiles: list[str] = []
    page.page.on("request", lambda r: tiles.append(r.url) if "/tiles/" in r.url else None)
    pg = open_map(page, f"{live_server.url}/kaart")
    # vestigingen (3,343 points) is above the embed limit of this server (500): not in the page,
    # drawn from vector tiles (/tiles/vestigingen/{z}/{x}/{y}.mvt) when switched on.
    assert '"vestigingen"' in html and "Vestigingen" in html and "/tiles/vestigingen/" in html
    expand_layer_control(pg)
    pg.locator(".leaflet-control-layers-overlays label", has_text="Vestigingen").locator(
        "input"
    ).check()
    pg.wait_for_function(
        "() => document.querySelectorAll('.leaflet-tile-container path').length > 1000"
    )
    assert any(re.search(r"/tiles/vestigingen/\d+/\d+/\d+\.mvt$", u) for u in tiles)
    # Styled from the shared style definitions: milieucategorie colours on the points.
    fills = pg.evaluate(
        "() => [...document.querySelectorAll('.leaflet-tile-container path')].map(p => p.getAttribute('fill'))"
    )
    assert "#f16913" in fills or "#fd8d3c" in fills
    # A click on a point opens its popup with Dutch labels.
    pg.evaluate(
        """() => { for (const k in window) {
            if (window[k] instanceof L.Map) { window[k].setView([52.09, 5.12], 14); return; } } }"""
    )
    pg.wait_for_timeout(1500)
    x, y = pg.evaluate("""() => {
        const map = document.querySelector('.leaflet-container').getBoundingClientRect();
        const sel = '.leaflet-tile-container path[fill="#fdae6b"], '
            + '.leaflet-tile-container path[fill="#f16913"]';
        for (const p of document.querySelectorAll(sel)) {
            const r = p.getBoundingClientRect(), cx = r.x + r.width / 2, cy = r.y + r.height / 2;
            const inside = cx > map.x + 320 && cx < map.right - 320 && cy > map.y + 150 && cy < map.bottom - 150;
            const top = document.elementFromPoint(cx, cy);  // p, or its copy in a neighbour tile's buffer
            if (inside && top && top.closest('.leaflet-tile-container')
                && top.getAttribute('fill') === p.getAttribute('fill')) {
                return [cx, cy];
            }
        }
        return null;
    }""")
    pg.mouse.click(x, y)
    pg.locator(".leaflet-popup-content").wait_for()
    text = pg.locator(".leaflet-popup-content").inner_text()
    assert "Milieucategorie" in text and "SBI-code" in text
    assert page.errors == [] and page.outside == []


def test_gemeente_map_zooms_to_the_gemeente(page, live_server):
    pg = open_map(page, f"{live_server.url}/kaart/gemeente/GM0307")
    names = overlay_names(pg)
    assert any(n.startswith("Gemeente Amersfoort") for n in names)
    assert any("HMC-bedrijventerreinen" in n for n in names)
    assert pg.locator(".rc-title").inner_text().startswith("Reserveringen gemeente Amersfoort")
    zoom = pg.evaluate(
        "() => { for (const k in window) { if (window[k] instanceof L.Map) return window[k].getZoom(); } }"
    )
    assert zoom >= 11
    assert page.errors == [] and page.outside == []


def test_unknown_gemeente_is_404(client):
    resp = client.get("/kaart/gemeente/GM9999")
    assert resp.status_code == 404


def test_index_lists_layers_and_downloads(page, live_server):
    page.page.goto(f"{live_server.url}/")
    body = page.page.locator("main").inner_text()
    assert "Kaartlagen" in body and "Bedrijventerreinen" in body
    assert page.page.locator("a[href='/api/layers/gemeenten/download?format=gpkg']").count() == 1
    assert page.errors == [] and page.outside == []


def test_api_docs_render_offline(page, live_server):
    page.page.goto(f"{live_server.url}/api-docs")
    page.page.locator(".opblock-tag").first.wait_for()
    assert page.page.locator(".opblock-tag", has_text="layers").count() == 1
    assert page.errors == [] and page.outside == []
