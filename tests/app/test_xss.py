"""Stored script injection: hostile text stored through every write path is shown as text on
every page, in headless Chromium; no dialog opens, no injected element or handler exists, no
template is evaluated on the server, and the pages run under a CSP without 'unsafe-inline'.

Write paths: the features API (create and replace as a gemeente-editor, submitted and adopted
through the workflow), layer metadata
(PATCH, as the province), a gemeente's name (replace, as the province), a file import through
the CLI (names, an extra column, the layer's title and description), and a scenario spec's title
with a run of it.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient

from tests.app.conftest import LiveServer, auth, make_app
from tests.helpers import RESERVERING_FEATURE, X0, Y0, square, write

pytestmark = [pytest.mark.slow, pytest.mark.db]

ROOT = Path(__file__).resolve().parents[2]

#: Hostile texts. Each marks what it would inject with ``data-xss`` and sets ``window.__xss``
#: (and opens a dialog) if it ever ran. ``{{ 'ssti' | upper }}`` would print SSTI if a
#: template engine evaluated it.
PAYLOADS = [
    '<img data-xss src=x onerror="alert(1);window.__xss=1">',
    "</script><script>alert(2);window.__xss=2</script>",
    '"><svg data-xss onload="alert(3);window.__xss=3">',
    "javascript:alert(4);window.__xss=4",
    "' onmouseover='alert(5);window.__xss=5' data-xss='",
    '<a data-xss href="javascript:alert(6)">klik</a>',
    '<iframe data-xss src="javascript:alert(7)"></iframe>',
    "{{ 'ssti' | upper }} {% if true %}sjabloon{% endif %}",
    "<!--<script>alert(8)</script>--> ]]> \u2028 &amp; &lt;b&gt;",
]
SSTI_RESULT = "SSTI"


def payload(i: int) -> str:
    return PAYLOADS[i % len(PAYLOADS)]


def _reservering(naam: str, doel: str, plan: str, dx: float = 0.0) -> dict:
    feature = copy.deepcopy(RESERVERING_FEATURE)
    feature["properties"].update(naam=naam, doel=doel, planreferentie=plan)
    ring = feature["geometry"]["coordinates"][0]
    feature["geometry"]["coordinates"][0] = [[x + dx, y] for x, y in ring]
    return feature


def _cli(database_url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "COLUMNS": "200"}
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def hostile(demo_engine, database_url, tmp_path_factory):
    """The demo data with PAYLOADS stored through every write path; the ids it wrote."""
    ids: dict = {}
    with TestClient(make_app(demo_engine)) as c:
        url = "/api/layers/reserveringen/features"
        for i in range(len(PAYLOADS)):
            resp = c.post(
                url,
                json=_reservering(payload(i), payload(i + 1), payload(i + 2), dx=0.004 * i),
                headers=auth("utrecht"),
            )
            assert resp.status_code == 201, resp.text
            ids.setdefault("reserveringen", []).append(resp.json()["id"])
        # Replace the first with other payloads (If-Match from its ETag).
        first = ids["reserveringen"][0]
        etag = c.get(f"{url}/{first}", headers=auth("utrecht")).headers["etag"]
        resp = c.put(
            f"{url}/{first}",
            json=_reservering(payload(3), payload(5), payload(6)),
            headers=auth("utrecht") | {"If-Match": etag},
        )
        assert resp.status_code == 200, resp.text
        # The gemeente submits its concepts, the province adopts them: now they are public.
        for fid in ids["reserveringen"]:
            for who, action in (("utrecht", "indienen"), ("provincie", "vaststellen")):
                etag = c.get(f"{url}/{fid}", headers=auth(who)).headers["etag"]
                resp = c.post(
                    f"{url}/{fid}/workflow",
                    json={"action": action},
                    headers=auth(who) | {"If-Match": etag},
                )
                assert resp.status_code == 200, resp.text
        # Layer metadata, as the province.
        for name, i in (("reserveringen", 0), ("bedrijventerreinen", 2), ("gemeenten", 5)):
            resp = c.patch(
                f"/api/layers/{name}",
                json={"title": payload(i), "description": payload(i + 1)},
                headers=auth("provincie"),
            )
            assert resp.status_code == 200, resp.text
        # The name of gemeente Utrecht, as the province.
        fc = c.get("/api/layers/gemeenten/features?statcode=GM0344").json()
        gem = fc["features"][0]
        etag = c.get(f"/api/layers/gemeenten/features/{gem['id']}").headers["etag"]
        gem["properties"]["naam"] = payload(0)
        resp = c.put(
            f"/api/layers/gemeenten/features/{gem['id']}",
            json={k: gem[k] for k in ("type", "properties", "geometry")},
            headers=auth("provincie") | {"If-Match": etag},
        )
        assert resp.status_code == 200, resp.text
        ids["gemeente"] = gem["id"]
        # A file import through the CLI: names, an extra column, title and description.
        rows = [
            {
                "naam": payload(i),
                "gemeente": "GM0344",
                "type": "wijk",
                "capaciteit_ha": 2.0,
                "opmerking": payload(i + 4),
            }
            for i in range(4)
        ]
        frame = gpd.GeoDataFrame(
            rows,
            geometry=[square(X0 + 300.0 * i, Y0 + 2000.0, 150.0) for i in range(4)],
            crs=28992,
        )
        src = write(frame, tmp_path_factory.mktemp("xss") / "locaties.gpkg")
        _cli(
            database_url,
            "layers",
            "import",
            str(src),
            "--kind",
            "strategische_locaties",
            "--name",
            "xss-locaties",
            "--title",
            payload(1),
            "--description",
            payload(2),
            "--set",
            "status=verkenning",
        )
        # A scenario spec with a hostile title, and two runs of it (for the comparison map).
        spec = c.get("/api/scenarios/pbl-2023-bedrijventerreinen-40").json()["spec"]
        spec.update(name="xss-scenario", title=payload(0))
        resp = c.post("/api/scenarios", json=spec, headers=auth("provincie"))
        assert resp.status_code == 201, resp.text
        runs = []
        for _ in range(2):
            resp = c.post("/api/scenarios/xss-scenario/runs", headers=auth("provincie"))
            assert resp.status_code == 201, resp.text
            runs.append(resp.json()["id"])
        ids["runs"] = runs
    return ids


@pytest.fixture(scope="module")
def hostile_server(hostile, demo_engine):
    with LiveServer(make_app(demo_engine, embed_max_features=500)) as server:
        yield server


def pages(ids: dict) -> list[str]:
    fid = ids["reserveringen"][1]
    run, other = ids["runs"]
    return [
        "/",
        "/kaart",
        "/kaart/gemeente/GM0344",
        f"/scenario/{run}",
        f"/kaart/scenario/{run}",
        f"/kaart/scenario/{run}?vergelijk={other}",
        "/ogc?f=html",
        "/ogc/collections?f=html",
        "/ogc/collections/reserveringen?f=html",
        "/ogc/collections/reserveringen/items?f=html",
        f"/ogc/collections/reserveringen/items/{fid}?f=html",
        "/ogc/collections/xss-locaties/items?f=html",
        "/inloggen?next=" + "javascript:alert(9)",
        "/api-docs",
    ]


PAGE_NAMES = [
    "index",
    "kaart",
    "kaart-gemeente",
    "scenario",
    "kaart-scenario",
    "kaart-scenario-vergelijk",
    "ogc-landing",
    "ogc-collections",
    "ogc-collection",
    "ogc-items",
    "ogc-item",
    "ogc-items-import",
    "inloggen",
    "api-docs",
]

#: Opens every popup and tooltip of every kaartlaag on the page, expands every layer control,
#: and returns the text the popups showed.
OPEN_EVERYTHING = """() => {
    const texts = [];
    document.querySelectorAll('.leaflet-control-layers')
        .forEach(c => c.classList.add('leaflet-control-layers-expanded'));
    for (const id of Object.keys(window)) {
        let lyr;
        try { lyr = window[id]; } catch (e) { continue; }
        if (!lyr || !lyr.rcOptions || !lyr.eachLayer || !lyr._map) { continue; }
        lyr.eachLayer(f => {
            if (f.openPopup) {
                f.openPopup();
                const box = document.querySelector('.leaflet-popup-content');
                if (box) { texts.push(box.textContent); }
                f.closePopup();
            }
            if (f.getTooltip && f.getTooltip()) {
                f.openTooltip();
                texts.push(f.getTooltip().getElement().textContent);
            }
        });
    }
    return texts;
}"""

INJECTED = """() => ({
    xss: window.__xss === undefined ? null : window.__xss,
    marked: document.querySelectorAll('[data-xss]').length,
    jsLinks: Array.from(document.querySelectorAll('[href], [src]')).filter(
        e => /^\\s*javascript:/i.test(e.getAttribute('href') || e.getAttribute('src') || '')).length,
    handlers: Array.from(document.querySelectorAll('*')).filter(
        e => Array.from(e.attributes).some(a => /^on/i.test(a.name))).length,
    frames: document.querySelectorAll('iframe, object, embed').length,
    text: document.body.innerText,
})"""


@pytest.mark.parametrize("which", range(len(PAGE_NAMES)), ids=PAGE_NAMES)
def test_no_stored_script_runs(which, hostile, hostile_server, browser):
    url = hostile_server.url + pages(hostile)[which]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL")
    dialogs: list[str] = []
    errors: list[str] = []
    try:
        pg = context.new_page()
        pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        pg.on("pageerror", lambda e: errors.append(str(e)))
        resp = pg.goto(url)
        assert resp.status == 200, url
        csp = resp.headers["content-security-policy"]
        pg.wait_for_load_state("networkidle")
        shown = pg.evaluate(OPEN_EVERYTHING)
        pg.mouse.move(640, 450)
        pg.wait_for_timeout(200)
        found = pg.evaluate(INJECTED)
        html = pg.content()
    finally:
        context.close()
    assert dialogs == [], f"{url}: dialogs {dialogs}"
    assert found["xss"] is None, f"{url}: injected script ran ({found['xss']})"
    assert found["marked"] == 0, f"{url}: injected elements"
    assert found["jsLinks"] == 0 and found["handlers"] == 0 and found["frames"] == 0, url
    # No template was evaluated on the server; no error (a CSP violation is one) on the page.
    assert SSTI_RESULT not in html, url
    assert errors == [], f"{url}: {errors}"
    # The hostile texts are there, as text: in the page or in its popups and tooltips.
    visible = found["text"] + "\n".join(shown)
    if PAGE_NAMES[which] not in ("inloggen", "api-docs", "ogc-landing"):
        assert any(p in visible for p in PAYLOADS), f"{url}: no stored text shown"
    # And were it to slip through: only the page's own nonce'd inline script may run.
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0], url


def test_map_popups_show_the_text_exactly(hostile, hostile_server, browser):
    """On the gemeente's map every stored reservering's name appears verbatim in a popup."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL")
    try:
        pg = context.new_page()
        pg.goto(hostile_server.url + "/kaart/gemeente/GM0344")
        pg.wait_for_load_state("networkidle")
        shown = "\n".join(pg.evaluate(OPEN_EVERYTHING))
        title = pg.title()
        texts = pg.locator(".rc-title").all_inner_texts()
    finally:
        context.close()
    for p in PAYLOADS:
        assert p.replace("\u2028", "") in shown.replace("\u2028", ""), p
    assert title == f"Reserveringen gemeente {payload(0)} (GM0344)"
    assert texts == [title]


def test_data_blocks_are_json_not_script(hostile, hostile_server):
    """The map pages carry data only in application/json blocks that cannot close early."""
    import re
    import urllib.request

    with urllib.request.urlopen(hostile_server.url + "/kaart/gemeente/GM0344") as resp:
        html = resp.read().decode()
        csp = resp.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.DOTALL)
    inline = [(attrs, body) for attrs, body in scripts if "src=" not in attrs]
    code = [body for attrs, body in inline if "application/json" not in attrs]
    assert len(code) == 1 and f'nonce="{nonce}"' in html
    for attrs, body in inline:
        if "application/json" in attrs:
            assert "<" not in body and ">" not in body
            json.loads(body)
    # The one script holds code only: none of the stored text is part of it.
    assert not any(p[:12] in code[0] for p in PAYLOADS)
