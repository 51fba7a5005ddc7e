"""Vector tiles decoded with mapbox-vector-tile and checked against PostGIS."""

from __future__ import annotations

import math

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from sqlalchemy import text

from layers.store import read_features
from layers.tiles import NETHERLANDS_RD_NEW_QUAD, WEB_MERCATOR_QUAD
from spatial.crs import RD_NEW, reproject

MERCATOR = 3857


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def decode(resp) -> dict:
    assert (
        resp.status_code == 200
        and resp.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    )
    return mapbox_vector_tile.decode(resp.content) if resp.content else {}


def test_point_tile_matches_postgis_in_count_attributes_and_position(ogc_client, ogc_db):
    z = 14
    x, y = tile_of(5.11, 52.09, z)
    layer = decode(ogc_client.get(f"/tiles/vestigingen/{z}/{x}/{y}.mvt"))["vestigingen"]
    minx, miny, maxx, maxy = WEB_MERCATOR_QUAD.tile_bounds(z, x, y)
    with ogc_db.engine.connect() as conn:
        ff = read_features(conn, "vestigingen")
    merc = reproject(ff.geometries, RD_NEW, "EPSG:3857")
    inside = [i for i, g in enumerate(merc) if minx <= g.x < maxx and miny <= g.y < maxy]
    by_id = {f["id"]: f for f in layer["features"]}
    assert len(inside) > 5
    assert {int(ff.fids[i]) for i in inside} <= set(by_id)  # plus the buffer's neighbours
    extent = layer["extent"]
    for i in inside:
        feat = by_id[int(ff.fids[i])]
        assert feat["properties"]["naam"] == ff.properties["naam"].iloc[i]
        assert feat["properties"]["milieucategorie"] == ff.properties["milieucategorie"].iloc[i]
        px, py = feat["geometry"][
            "coordinates"
        ]  # y up, origin at the bottom left (decoder default)
        gx = minx + px / extent * (maxx - minx)
        gy = miny + py / extent * (maxy - miny)
        assert (
            abs(gx - merc[i].x) <= (maxx - minx) / extent
            and abs(gy - merc[i].y) <= (maxy - miny) / extent
        )


@pytest.mark.parametrize("z", [10, 12, 14])
def test_polygon_tile_has_every_terrein_that_intersects_it(ogc_client, ogc_db, z):
    x, y = tile_of(5.11, 52.09, z)
    tile = decode(ogc_client.get(f"/tiles/bedrijventerreinen/{z}/{x}/{y}.mvt"))
    got = {f["id"] for f in tile.get("bedrijventerreinen", {"features": []})["features"]}
    with ogc_db.engine.connect() as conn:
        expected = set(
            conn.execute(
                text(
                    "SELECT f.fid FROM features f JOIN layers l ON l.id = f.layer_id "
                    "WHERE l.name = 'bedrijventerreinen' AND f.version_to IS NULL "
                    "AND ST_Intersects(ST_Transform(f.geom, 3857), ST_TileEnvelope(:z, :x, :y))"
                ),
                {"z": z, "x": x, "y": y},
            ).scalars()
        )
    assert expected and expected <= got
    # Generalised per zoom: fewer vertices at z10 than the stored geometries have.


def test_rd_new_quad_tile(ogc_client, ogc_db):
    z = 6
    size = NETHERLANDS_RD_NEW_QUAD.size / (1 << z)
    x = int((136_000 - NETHERLANDS_RD_NEW_QUAD.bounds[0]) / size)
    y = int((NETHERLANDS_RD_NEW_QUAD.bounds[3] - 456_000) / size)
    layer = decode(ogc_client.get(f"/tiles/gemeenten/NetherlandsRDNewQuad/{z}/{x}/{y}.mvt"))[
        "gemeenten"
    ]
    names = {f["properties"]["naam"] for f in layer["features"]}
    assert "Utrecht" in names
    box = shapely.box(*NETHERLANDS_RD_NEW_QUAD.tile_bounds(z, x, y))
    buffered = box.buffer(
        size * 64 / 4096, join_style="mitre"
    )  # the tile's buffer (64 of 4096 units)
    with ogc_db.engine.connect() as conn:
        ff = read_features(conn, "gemeenten")
    pairs = list(zip(ff.properties["naam"], ff.geometries, strict=True))
    assert (
        {n for n, g in pairs if g.intersects(box)}
        <= names
        <= {n for n, g in pairs if g.intersects(buffered)}
    )


def test_generalised_per_zoom(ogc_client):
    x, y = tile_of(5.11, 52.09, 9)
    low = decode(ogc_client.get(f"/tiles/gemeenten/9/{x}/{y}.mvt"))["gemeenten"]["features"]
    vertices = sum(len(shapely.get_coordinates(shapely.geometry.shape(f["geometry"]))) for f in low)
    x2, y2 = tile_of(5.11, 52.09, 14)
    high = decode(ogc_client.get(f"/tiles/gemeenten/14/{x2}/{y2}.mvt"))["gemeenten"]["features"]
    assert vertices < 4000 and high


def test_cache_headers_and_304(ogc_client):
    x, y = tile_of(5.11, 52.09, 12)
    first = ogc_client.get(f"/tiles/bedrijventerreinen/12/{x}/{y}.mvt")
    etag = first.headers["etag"]
    assert "max-age" in first.headers["cache-control"] and etag.startswith('"')
    again = ogc_client.get(
        f"/tiles/bedrijventerreinen/12/{x}/{y}.mvt", headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and again.content == b""
    other = ogc_client.get(f"/tiles/bedrijventerreinen/12/{x + 1}/{y}.mvt")
    assert other.headers["etag"] != etag


def test_empty_tile_and_bad_tiles(ogc_client):
    empty = ogc_client.get("/tiles/bedrijventerreinen/10/0/0.mvt")
    assert empty.status_code == 200 and empty.content == b""
    assert ogc_client.get("/tiles/bedrijventerreinen/3/8/0.mvt").status_code == 400
    assert ogc_client.get("/tiles/nope/3/0/0.mvt").status_code == 404
    assert ogc_client.get("/tiles/gemeenten/NoSuchQuad/3/0/0.mvt").status_code == 404


def test_property_filter_on_tiles(ogc_client):
    x, y = tile_of(5.11, 52.09, 10)
    hard = decode(ogc_client.get(f"/tiles/reserveringen/10/{x}/{y}.mvt?status=hard"))
    assert all(
        f["properties"]["status"] == "hard"
        for f in hard.get("reserveringen", {"features": []})["features"]
    )


def test_tilejson(ogc_client):
    doc = ogc_client.get("/tiles/bedrijventerreinen.json").json()
    assert doc["tilejson"] == "3.0.0" and doc["tiles"][0].endswith(
        "/tiles/bedrijventerreinen/{z}/{x}/{y}.mvt"
    )
    lon0, lat0, lon1, lat1 = doc["bounds"]
    assert 4.7 < lon0 < lon1 < 5.7 and 51.8 < lat0 < lat1 < 52.4
    assert doc["vector_layers"][0]["fields"]["max_milieucategorie"] == "Maximale milieucategorie"
    assert np.isfinite(doc["center"]).all()


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/bedrijventerreinen/3/8/0.mvt",
        "/tiles/bedrijventerreinen/25/0/0.mvt",
        "/tiles/bedrijventerreinen/0/-1/0.mvt",
        "/tiles/bedrijventerreinen/10/99999999/0.mvt",
        "/tiles/bedrijventerreinen/22/0/4194304.mvt",
        "/tiles/bedrijventerreinen/NetherlandsRDNewQuad/17/0/0.mvt",
        "/tiles/bedrijventerreinen/NetherlandsRDNewQuad/2/4/0.mvt",
    ],
)
def test_every_out_of_range_tile_index_is_400(ogc_client, path):
    resp = ogc_client.get(path)
    assert resp.status_code == 400, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
