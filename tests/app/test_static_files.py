"""Map pages name their scripts and styles by content hash; those URLs are cached for a year."""

from __future__ import annotations

import re

from app.static_files import IMMUTABLE, REVALIDATE, asset_url


def test_kaart_assets_carry_their_hash_and_are_kept(client):
    html = client.get("/kaart").text
    urls = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert any("/static/leaflet/leaflet.js?v=" in u for u in urls)
    assert any("/static/ruimte-map.js?v=" in u for u in urls)
    for url in urls:
        assert re.search(r"\?v=[0-9a-f]{12}$", url), url
        resp = client.get(url)
        assert resp.status_code == 200 and resp.headers["cache-control"] == IMMUTABLE, url
        assert resp.headers["x-content-type-options"] == "nosniff"


def test_other_versions_are_revalidated(client):
    url = asset_url("/static/ruimte-map.js")
    stale = url.split("?v=")[0] + "?v=000000000000"
    for asked in (url.split("?v=")[0], stale):
        resp = client.get(asked)
        assert resp.status_code == 200 and resp.headers["cache-control"] == REVALIDATE
    etag = client.get(stale).headers["etag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["cache-control"] == IMMUTABLE
    assert client.get("/static/nothing-here.js?v=abc").status_code == 404
    assert asset_url("/static/nothing-here.js") == "/static/nothing-here.js"
    assert asset_url("/static/../app/main.py") == "/static/../app/main.py"
