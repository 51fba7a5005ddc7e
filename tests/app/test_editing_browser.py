"""Editing reserveringen in the browser (headless Chromium, real PostGIS): a GM0344 editor signs
in, draws and saves a concept, submits it; the province adopts it on /beheer; then it is public
and the next scenario run reads it. Refusals show the server's message at the field or on the
map and store nothing; a concurrent edit shows the conflict and loses nothing; a restore from
the history panel brings back an earlier state exactly."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import text

from tests.app.conftest import TOKENS, auth

pytestmark = [pytest.mark.slow, pytest.mark.db]

RES = "/api/layers/reserveringen/features"
#: Inside the city of Utrecht (GM0344), and a point well inside Amersfoort (GM0307).
INSIDE = (5.10, 52.08)
AMERSFOORT = (5.39, 52.155)


def signed_in(browser, server, who: str, width: int = 1400, height: int = 900):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="nl-NL")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.url}/inloggen")
    page.fill("#token", TOKENS[who])
    page.click("form.inline button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    page.errors = errors
    return context, page


def open_gemeente(page, server):
    page.goto(f"{server.url}/kaart/gemeente/GM0344")
    page.wait_for_selector(".rc-edit")
    page.wait_for_function("() => window.RuimteMap && window.RuimteMap.layers.length > 0")
    page.wait_for_load_state("networkidle")


MAP = "Object.keys(window).map(k => window[k]).find(v => v && v instanceof L.Map)"


def pixel(page, lon: float, lat: float) -> tuple[float, float]:
    box = page.locator(".folium-map").bounding_box()
    p = page.evaluate(
        f"([lon, lat]) => {{ const m = {MAP}; const p = m.latLngToContainerPoint([lat, lon]);"
        " return [p.x, p.y]; }",
        [lon, lat],
    )
    return box["x"] + p[0], box["y"] + p[1]


def zoom_to(page, lon: float, lat: float, zoom: int = 16) -> None:
    page.evaluate(
        f"([lon, lat, z]) => {{ {MAP}.setView([lat, lon], z, {{animate: false}}); }}",
        [lon, lat, zoom],
    )
    page.wait_for_timeout(300)


def draw_square(page, lon: float, lat: float, d: float = 0.0012) -> None:
    """Draw a polygon with Geoman's tool: four clicks on the map, then the first again."""
    zoom_to(page, lon + d / 2, lat + d / 2)
    page.click(".leaflet-pm-icon-polygon")
    corners = [(lon, lat), (lon + d, lat), (lon + d, lat + d), (lon, lat + d), (lon, lat)]
    for c in corners:
        x, y = pixel(page, *c)
        page.mouse.click(x, y)
        page.wait_for_timeout(120)
    page.wait_for_selector(".rc-edit-form")


def fill(page, **values) -> None:
    for name, value in values.items():
        node = page.locator(f"#rc-f-{name}")
        if node.evaluate("n => n.tagName") == "SELECT":
            node.select_option(value)
        else:
            node.fill(value)


def rows(engine, naam: str) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT fid, workflow, draft, properties->>'doel' FROM features "
                "WHERE version_to IS NULL AND properties->>'naam' = :n"
            ),
            {"n": naam},
        ).all()


def select_feature(page, fid: int) -> None:
    """Click the feature on the map (at a point on its surface)."""
    lonlat = page.evaluate(
        """(fid) => {
            for (const l of window.RuimteMap.layers) {
                let hit = null;
                l.eachLayer(f => { if (f.feature && String(f.feature.id) === String(fid)) hit = f; });
                if (hit) { const c = hit.getBounds().getCenter(); return [c.lng, c.lat]; }
            }
            return null;
        }""",
        fid,
    )
    assert lonlat, f"feature {fid} is not on the map"
    zoom_to(page, *lonlat)
    x, y = pixel(page, *lonlat)
    page.mouse.click(x, y)
    page.wait_for_selector(f".rc-edit h3:has-text('object {fid}')")


def test_concept_submit_adopt_then_public_and_in_the_next_run(browser, live_server, demo_engine):
    base = live_server.url
    before_run = requests.post(
        f"{base}/api/scenarios/pbl-2023-bedrijventerreinen-40/runs", headers=auth("provincie")
    ).json()
    ctx, page = signed_in(browser, live_server, "utrecht")
    try:
        open_gemeente(page, live_server)
        draw_square(page, *INSIDE)
        fill(
            page,
            naam="Bouwhub Croeselaan",
            doel="opslag van secundaire bouwmaterialen",
            status="hard",
        )
        page.click(".rc-save")
        page.wait_for_selector(".rc-edit-message.rc-ok")
        assert "concept" in page.locator(".rc-edit-message").inner_text()
        [(fid, state, draft, _)] = rows(demo_engine, "Bouwhub Croeselaan")
        assert state == "concept" and draft is True
        # Nobody else sees it: not the public, not Amersfoort's editor.
        assert requests.get(f"{base}{RES}/{fid}").status_code == 404
        assert requests.get(f"{base}{RES}/{fid}", headers=auth("amersfoort")).status_code == 404
        assert "Bouwhub Croeselaan" not in requests.get(f"{base}/kaart/gemeente/GM0344").text
        page.click(".rc-submit")
        page.wait_for_selector(".rc-edit-state:has-text('Ingediend')")
        assert rows(demo_engine, "Bouwhub Croeselaan")[0][1] == "ingediend"
        assert page.errors == []
    finally:
        ctx.close()
    ctx, page = signed_in(browser, live_server, "provincie")
    try:
        page.goto(f"{base}/beheer")
        row = page.locator(f"#werklijst tr[data-fid='{fid}']")
        assert "Bouwhub Croeselaan" in row.inner_text() and "Utrecht (GM0344)" in row.inner_text()
        row.locator("button.adopt").click()
        page.wait_for_selector("#beheer-status.status-groen")
        assert page.errors == []
    finally:
        ctx.close()
    assert rows(demo_engine, "Bouwhub Croeselaan")[0][1:3] == ("vastgesteld", False)
    public = requests.get(f"{base}{RES}/{fid}")
    assert public.status_code == 200 and public.json()["properties"]["status"] == "hard"
    after_run = requests.post(
        f"{base}/api/scenarios/pbl-2023-bedrijventerreinen-40/runs", headers=auth("provincie")
    ).json()

    def hard(run) -> float:
        doc = requests.get(f"{base}/api/runs/{run['id']}").json()
        row = next(r for r in doc["result"]["per_gemeente"] if r["statcode"] == "GM0344")
        return row["supply_reserveringen_hard_ha"]

    with demo_engine.connect() as conn:
        area = conn.execute(
            text(
                "SELECT ST_Area(geom) / 10000 FROM features WHERE fid = :f AND version_to IS NULL"
            ),
            {"f": fid},
        ).scalar_one()
    assert hard(after_run) - hard(before_run) == pytest.approx(area, abs=0.01)


def test_refusals_show_at_the_field_or_on_the_map_and_store_nothing(
    browser, live_server, demo_engine
):
    ctx, page = signed_in(browser, live_server, "utrecht")
    try:
        open_gemeente(page, live_server)
        # A required field left empty: the server's message at that field.
        draw_square(page, INSIDE[0] + 0.004, INSIDE[1])
        fill(page, naam="Zonder doel", status="zacht")
        page.click(".rc-save")
        page.wait_for_selector("#rc-e-doel:not(:empty)")
        assert page.locator("#rc-f-doel").get_attribute("aria-invalid") == "true"
        assert rows(demo_engine, "Zonder doel") == []
        page.click(".rc-close")
        # Across the border with Amersfoort? Utrecht borders De Bilt etc.: draw in Amersfoort.
        draw_square(page, *AMERSFOORT)
        fill(page, naam="Over de grens", doel="opslag", status="zacht")
        page.click(".rc-save")
        page.wait_for_selector(".rc-edit-message.rc-error")
        text_ = (
            page.locator(".rc-edit-message").inner_text()
            + page.locator("#rc-e-geometry").inner_text()
        )
        assert "Utrecht" in text_ and "outside" in text_
        assert rows(demo_engine, "Over de grens") == []
        assert page.errors == []
    finally:
        ctx.close()


def test_a_concurrent_edit_shows_the_conflict_and_loses_nothing(browser, live_server, demo_engine):
    made = requests.post(
        f"{live_server.url}{RES}",
        json={
            "type": "Feature",
            "properties": {
                "naam": "Samen bewerkt",
                "gemeente": "GM0344",
                "doel": "opslag",
                "status": "zacht",
            },
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [5.094, 52.086],
                        [5.0955, 52.086],
                        [5.0955, 52.087],
                        [5.094, 52.087],
                        [5.094, 52.086],
                    ]
                ],
            },
            "draft": True,
        },
        headers=auth("utrecht"),
    )
    fid = made.json()["id"]
    ctx_a, a = signed_in(browser, live_server, "utrecht")
    ctx_b, b = signed_in(browser, live_server, "utrecht")
    try:
        for page in (a, b):
            open_gemeente(page, live_server)
            select_feature(page, fid)
        fill(a, doel="versie van A")
        a.click(".rc-save")
        a.wait_for_selector(".rc-edit-message.rc-ok")
        fill(b, doel="versie van B")
        b.click(".rc-save")
        b.wait_for_selector(".rc-edit-conflict")
        assert (
            "Iemand anders heeft dit object intussen gewijzigd"
            in b.locator(".rc-edit-conflict").inner_text()
        )
        assert "versie van A" in b.locator(".rc-edit-diff").inner_text()
        # B's edit is not lost: still in the form; the database holds A's.
        assert b.locator("#rc-f-doel").input_value() == "versie van B"
        assert rows(demo_engine, "Samen bewerkt")[0][3] == "versie van A"
        b.click(".rc-keep-mine")
        b.wait_for_selector(".rc-edit-message.rc-ok")
        assert rows(demo_engine, "Samen bewerkt")[0][3] == "versie van B"
        assert a.errors == [] and b.errors == []
    finally:
        ctx_a.close()
        ctx_b.close()


def test_restore_from_the_history_panel_brings_back_the_earlier_state(
    browser, live_server, demo_engine
):
    base = live_server.url
    first = {
        "type": "Feature",
        "properties": {
            "naam": "Met geschiedenis",
            "gemeente": "GM0344",
            "doel": "eerste doel",
            "status": "zacht",
        },
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [
                    [5.115, 52.075],
                    [5.1165, 52.075],
                    [5.1165, 52.076],
                    [5.115, 52.076],
                    [5.115, 52.075],
                ]
            ],
        },
        "draft": True,
    }
    fid = requests.post(f"{base}{RES}", json=first, headers=auth("utrecht")).json()["id"]
    original = requests.get(f"{base}{RES}/{fid}", headers=auth("utrecht")).json()
    ctx, page = signed_in(browser, live_server, "utrecht")
    try:
        open_gemeente(page, live_server)
        select_feature(page, fid)
        fill(page, doel="later doel", status="hard")
        page.click(".rc-save")
        page.wait_for_selector(".rc-edit-message.rc-ok")
        page.click(".rc-history")
        page.wait_for_selector(".rc-history-entry")
        entries = page.locator(".rc-history-entry")
        assert entries.count() == 2
        assert (
            "aangemaakt" in entries.nth(1).inner_text()
            and "gewijzigd" in entries.nth(0).inner_text()
        )
        entries.nth(1).locator(".rc-history-show").click()
        entries.nth(1).locator(".rc-history-restore").click()
        page.wait_for_selector(".rc-edit-message.rc-ok:has-text('hersteld')")
        assert page.errors == []
    finally:
        ctx.close()
    now = requests.get(f"{base}{RES}/{fid}", headers=auth("utrecht")).json()
    assert now["properties"] == original["properties"]
    assert now["geometry"] == original["geometry"]
