"""Tiles are never cut silently and are cached (issue 14 item 4).

Every tile says how many features matched, how many it holds, how many were left out as smaller
than a pixel and how many were cut at the cap; the counts are checked against shapely. Tiles are
kept in memory and never served stale: an edit (through this app or another process) is seen
at the next request.
"""

from __future__ import annotations

import math

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient

from layers.access import PUBLIC
from layers.kinds import load_kinds
from layers.query import FeatureQuery
from layers.store import get_layer, read_features
from layers.tiles import WEB_MERCATOR_QUAD, TileRequest, TileRules, layer_tile, tile_rules
from spatial.crs import RD_NEW, reproject
from tests.app.conftest import auth, make_app
from tests.helpers import RESERVERING_FEATURE

COUNTS = ("Ruimte-Tile-Matched", "Ruimte-Tile-Returned", "Ruimte-Tile-Dropped-Small")


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def _independent(engine, z: int, x: int, y: int, cap: int):
    """Matched, small and the ids of the ``cap`` largest of the rest, by shapely alone."""
    with engine.connect() as conn:
        ff = read_features(conn, "bedrijventerreinen")
    merc = reproject(ff.geometries, RD_NEW, "EPSG:3857")
    minx, miny, maxx, maxy = WEB_MERCATOR_QUAD.tile_bounds(z, x, y)
    inside = shapely.intersects(merc, shapely.box(minx, miny, maxx, maxy))
    assert inside.all(), "the test tile must hold the whole layer"
    b = shapely.bounds(ff.geometries)
    size = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    pixel = (maxx - minx) / 256 * math.cos(math.radians(52.1))
    small = size < pixel
    order = np.lexsort((ff.fids, -size))
    kept = [int(ff.fids[i]) for i in order if not small[i]][:cap]
    return len(ff.fids), int(small.sum()), kept


@pytest.mark.parametrize("cap", [10, 25, 10_000])
def test_counts_and_the_cut_match_shapely(demo_engine, cap):
    z = 7
    x, y = tile_of(5.25, 52.1, z)
    matched, small, kept = _independent(demo_engine, z, x, y, cap)
    rules = TileRules(max_features=cap, min_size_px=1.0, overview_pixel_m=20.0)
    with demo_engine.connect() as conn:
        info = get_layer(conn, "bedrijventerreinen")
        tile = layer_tile(
            conn,
            info,
            load_kinds()["bedrijventerreinen"],
            TileRequest(WEB_MERCATOR_QUAD, z, x, y, "bt", rules),
            FeatureQuery(viewer=PUBLIC),
        )
    features = mapbox_vector_tile.decode(tile.data)["bt"]["features"]
    ids = [f["id"] for f in features]
    assert tile.matched == matched
    assert tile.cut == max(matched - small - cap, 0)
    assert tile.returned == len(ids)
    assert tile.dropped_small + tile.returned + tile.cut == matched
    assert tile.dropped_small >= small
    assert set(ids) <= set(kept) and len(kept) - len(ids) == tile.dropped_small - small
    if cap < matched - small:
        assert tile.cut > 0  # more visible features than the cap: said, not hidden
    # An overview zoom carries the label field and the style's field only.
    assert {k for f in features for k in f["properties"]} <= {"naam", "max_milieucategorie"}


def test_every_tile_carries_its_counts_and_deep_zooms_all_properties(client):
    z = 14
    x, y = tile_of(5.11, 52.09, z)
    for url in (
        f"/tiles/bedrijventerreinen/{z}/{x}/{y}.mvt",
        f"/ogc/collections/bedrijventerreinen/tiles/WebMercatorQuad/{z}/{y}/{x}",
    ):
        resp = client.get(url)
        assert resp.status_code == 200
        n = {h: int(resp.headers[h]) for h in (*COUNTS, "Ruimte-Tile-Cut")}
        assert n["Ruimte-Tile-Matched"] == (
            n["Ruimte-Tile-Returned"] + n["Ruimte-Tile-Dropped-Small"] + n["Ruimte-Tile-Cut"]
        )
    doc = client.get("/ogc/collections/bedrijventerreinen/tiles/WebMercatorQuad").json()
    assert "Ruimte-Tile-Cut" in doc["description"]
    assert f"{tile_rules().max_features:,}".replace(",", ".") in doc["description"]
    resp = client.get(f"/tiles/reserveringen/{z}/{x}/{y}.mvt")
    layer = mapbox_vector_tile.decode(resp.content).get("reserveringen", {"features": []})
    for f in layer["features"]:
        assert {"naam", "gemeente", "status"} <= set(f["properties"])


def _tile(client, url: str):
    resp = client.get(url)
    assert resp.status_code == 200, resp.text
    ids = {
        f["id"]
        for f in mapbox_vector_tile.decode(resp.content)
        .get("reserveringen", {})
        .get("features", [])
    }
    return resp.headers["Ruimte-Tile-Cache"], ids


def test_tiles_are_cached_and_an_edit_is_seen_at_once(demo_engine):
    z = 15
    x, y = tile_of(5.101, 52.0805, z)
    url = f"/tiles/reserveringen/{z}/{x}/{y}.mvt"
    with (
        TestClient(make_app(demo_engine)) as a,
        TestClient(make_app(demo_engine)) as b,
        TestClient(make_app(demo_engine, tile_cache_mb=0)) as off,
    ):
        assert _tile(a, url)[0] == "miss"
        hit, before = _tile(a, url)
        assert hit == "hit"
        assert _tile(b, url)[0] == "miss" and _tile(b, url)[0] == "hit"
        assert _tile(off, url)[0] == "miss" and _tile(off, url)[0] == "miss"
        made = a.post(
            "/api/layers/reserveringen/features",
            json=RESERVERING_FEATURE,
            headers=auth("provincie"),
        )
        assert made.status_code == 201, made.text
        fid = made.json()["id"]
        for app_client in (a, b):  # b never saw the edit: its cached tile must not be served
            state, after = _tile(app_client, url)
            assert state == "miss" and fid in after and after - {fid} == before
            assert _tile(app_client, url) == ("hit", after)
        gone = a.delete(
            f"/api/layers/reserveringen/features/{fid}",
            headers=auth("provincie") | {"If-Match": made.headers["ETag"]},
        )
        assert gone.status_code in (200, 204), gone.text
        assert _tile(b, url) == ("miss", before)


def test_the_cache_is_bounded_by_its_bytes():
    from app.tile_cache import ENTRY_OVERHEAD, TileCache
    from layers.tiles import Tile

    cache = TileCache(10 * (1000 + ENTRY_OVERHEAD))
    for i in range(25):
        cache.put(1, "v1", (1, i), Tile(b"x" * 1000, 1, 0, 0))
    assert cache.entries == 10 and cache.stats.bytes <= cache.max_bytes
    assert cache.get((1, 0)) is None and cache.get((1, 24)) is not None
    cache.put(1, "v2", (1, 99), Tile(b"y", 1, 0, 0))  # a newer state drops the older tiles
    assert cache.entries == 1 and cache.get((1, 24)) is None
    cache.put(2, "v1", (2, 0), Tile(b"z" * 10**6, 1, 0, 0))  # larger than the bound: not kept
    assert cache.get((2, 0)) is None


def test_a_detail_tile_over_the_cap_is_made_again_capped(demo_engine):
    """At detail zooms no pre-count runs: the one-pass query reads one feature more than the
    cap, and a tile that holds more is made again by the capped query, counted exactly."""
    z = 12
    x, y = tile_of(5.11, 52.09, z)
    with demo_engine.connect() as conn:
        info = get_layer(conn, "bedrijventerreinen")
        kind = load_kinds()["bedrijventerreinen"]

        def made(cap: int):
            rules = TileRules(max_features=cap, min_size_px=1.0, overview_pixel_m=1000.0)
            req = TileRequest(WEB_MERCATOR_QUAD, z, x, y, "bt", rules)
            assert not req.overview
            return layer_tile(conn, info, kind, req, FeatureQuery(viewer=PUBLIC))

        full, capped = made(10_000), made(3)
    assert full.cut == 0 and full.returned > 3
    assert capped.matched == full.matched
    assert capped.returned <= 3 and capped.cut > 0
    assert capped.returned + capped.dropped_small + capped.cut == capped.matched
    ids = {f["id"] for f in mapbox_vector_tile.decode(capped.data)["bt"]["features"]}
    assert len(ids) == capped.returned
