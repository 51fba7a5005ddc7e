"""Acceptance: a MapLibre page on another origin shows the tiles when CORS is enabled for that
origin, and is blocked when it is not (headless Chromium, MapLibre GL JS from the ``maplibre``
package, the page served by a second HTTP server on another port)."""

from __future__ import annotations

import functools
import http.server
import importlib.util
import shutil
import threading
from pathlib import Path

import pytest

from tests.app.conftest import LiveServer, PageWatch, _free_port, make_app

# MapLibre GL JS as the ``maplibre`` package ships it (found, not imported: its import logs).
_SPEC = importlib.util.find_spec("maplibre")
if _SPEC is None or _SPEC.origin is None:
    pytest.fail("the maplibre package (test extra) is missing: run scripts/bootstrap")
SRCJS = Path(_SPEC.origin).parent / "srcjs"

PAGE = """<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>Kaart elders</title>
<link rel="stylesheet" href="maplibre-gl.css">
<script src="maplibre-gl.js"></script>
<style>#map {{ width: 800px; height: 600px; }}</style></head>
<body><div id="map"></div><script>
window.errors = [];
const map = new maplibregl.Map({{
  container: "map", style: "{api}/ogc/styles/bedrijventerreinen",
  center: [5.12, 52.09], zoom: 10, attributionControl: false, fadeDuration: 0
}});
map.on("error", (e) => window.errors.push(String(e.error && e.error.message || e.error || e)));
map.on("idle", () => {{
  window.rendered = map.queryRenderedFeatures().filter((f) => f.source === "bedrijventerreinen").length;
}});
</script></body></html>
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # noqa: D102
        pass


@pytest.fixture(scope="module")
def other_origin(tmp_path_factory):
    """A plain static HTTP server on another port: another origin than the API."""
    root = tmp_path_factory.mktemp("elders")
    for name in ("maplibre-gl.js", "maplibre-gl.css"):
        shutil.copy(SRCJS / name, root / name)
    port = _free_port()
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="module")
def cors_server(ogc_db, other_origin):
    _, origin = other_origin
    with LiveServer(make_app(ogc_db.engine, cors_origins=(origin,))) as server:
        yield server


@pytest.fixture
def map_page(browser):
    """A fresh page that records console errors (and keeps requests on 127.0.0.1)."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="nl-NL")
    watched = PageWatch(context.new_page())
    yield watched
    context.close()


def _open(page, other_origin, api: str, name: str):
    root, origin = other_origin
    (root / name).write_text(PAGE.format(api=api), encoding="utf-8")
    page.page.goto(f"{origin}/{name}")
    return page.page


def test_maplibre_on_another_origin_shows_the_tiles_with_cors_enabled(
    map_page, other_origin, cors_server
):
    pg = _open(map_page, other_origin, cors_server.url, "met-cors.html")
    pg.wait_for_function("window.rendered !== undefined && window.rendered > 0", timeout=30_000)
    assert pg.evaluate("window.errors") == []
    assert pg.evaluate("window.rendered") > 0


def test_maplibre_on_another_origin_is_blocked_with_cors_disabled(
    map_page, other_origin, ogc_server
):
    pg = _open(map_page, other_origin, ogc_server.url, "zonder-cors.html")
    pg.wait_for_function("window.errors.length > 0", timeout=30_000)
    assert not pg.evaluate("window.rendered")
    messages = " ".join(pg.evaluate("window.errors"))
    assert "fetch" in messages.lower() or "cors" in messages.lower(), messages
    assert any("Access-Control-Allow-Origin" in e or "CORS" in e for e in map_page.errors), (
        map_page.errors
    )
