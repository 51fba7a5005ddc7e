"""OGC API – Features (Parts 1 and 2) against PostGIS, checked against independent selections."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
import shapely

from app.routes import ogc
from layers.store import read_features
from spatial.crs import RD_NEW, WGS84, reproject

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
RD = "http://www.opengis.net/def/crs/EPSG/0/28992"
ETRS89 = "http://www.opengis.net/def/crs/EPSG/0/4258"


def rels(doc) -> dict[str, str]:
    return {link["rel"]: link["href"] for link in doc["links"]}


def test_landing_page_links(ogc_client):
    doc = ogc_client.get("/ogc").json()
    links = rels(doc)
    assert {"self", "service-desc", "conformance", "data"} <= set(links)
    desc = next(link for link in doc["links"] if link["rel"] == "service-desc")
    assert desc["type"] == "application/vnd.oai.openapi+json;version=3.0"
    resp = ogc_client.get(links["service-desc"])
    assert resp.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    api = resp.json()
    assert api["openapi"].startswith("3.0.") and api["servers"][0]["url"].endswith("/ogc")
    assert "/collections/{collectionId}/items" in api["paths"]


@pytest.mark.parametrize("path", ["/ogc", "/ogc/"])
def test_landing_page_with_and_without_slash_is_200_without_redirect(ogc_client, path):
    resp = ogc_client.get(path, follow_redirects=False)
    assert resp.status_code == 200 and resp.json()["links"]


def test_openapi_30_lists_each_collections_queryables_as_parameters(ogc_client):
    api = ogc_client.get("/ogc/api").json()
    params = api["paths"]["/collections/reserveringen/items"]["get"]["parameters"]
    names = {p.get("name") for p in params if "name" in p}
    assert {"status", "gemeente", "geldig_van", "naam"} <= names
    status = next(p for p in params if p.get("name") == "status")
    assert status["in"] == "query" and status["schema"]["enum"] == ["zacht", "hard"]
    refs = {p["$ref"].rsplit("/", 1)[-1] for p in params if "$ref" in p}
    assert {"limit", "datetime", "bbox", "filter", "sortby"} <= refs
    limit = api["components"]["parameters"]["limit"]
    assert limit["style"] == "form" and limit["explode"] is False
    # Unpublished layers and their parameters are not in the document of the public.
    assert all(p.startswith("/") for p in api["paths"])


def test_limit_above_the_maximum_is_clamped(ogc_client, monkeypatch):
    monkeypatch.setattr(ogc_client.app.state.web, "page_max", 50)
    doc = ogc_client.get("/ogc/collections/vestigingen/items?limit=20000").json()
    assert doc["numberReturned"] == 50
    assert "limit=50" in rels(doc)["next"]


def test_geometries_carry_no_crs_member(ogc_client):
    for crs in (CRS84, RD, ETRS89):
        doc = ogc_client.get("/ogc/collections/gemeenten/items", params={"crs": crs, "limit": 2})
        assert doc.status_code == 200
        for feature in doc.json()["features"]:
            assert set(feature["geometry"]) == {"type", "coordinates"}


def test_head_answers_every_get_without_a_body(ogc_client):
    for path in (
        "/ogc",
        "/ogc/",
        "/ogc/api",
        "/ogc/conformance",
        "/ogc/collections",
        "/ogc/collections/reserveringen",
        "/ogc/collections/reserveringen/queryables",
        "/ogc/collections/reserveringen/items?limit=2",
        "/ogc/collections/nope",
    ):
        get = ogc_client.get(path)
        head = ogc_client.head(path)
        assert head.status_code == get.status_code, path
        assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]


def test_conformance_declares_parts_1_and_2(ogc_client):
    classes = ogc_client.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in classes


def test_collections_have_extent_crs_and_storage_crs(ogc_client, ogc_db):
    doc = ogc_client.get("/ogc/collections").json()
    by_id = {c["id"]: c for c in doc["collections"]}
    assert {"gemeenten", "bedrijventerreinen", "reserveringen", "vestigingen"} <= set(by_id)
    gem = by_id["gemeenten"]
    assert gem["storageCrs"] == RD and gem["crs"][0] == CRS84 and ETRS89 in gem["crs"]
    lon0, lat0, lon1, lat1 = gem["extent"]["spatial"]["bbox"][0]
    assert 4.7 < lon0 < lon1 < 5.7 and 51.8 < lat0 < lat1 < 52.4
    with ogc_db.engine.connect() as conn:
        ff = read_features(conn, "gemeenten")
    xy = reproject(ff.geometries, RD_NEW, WGS84)
    lo, la = shapely.get_coordinates(xy).T
    assert lon0 <= lo.min() and lo.max() <= lon1 and lat0 <= la.min() and la.max() <= lat1
    assert by_id["reserveringen"]["extent"]["temporal"]["interval"][0][0] is not None
    assert "temporal" not in by_id["gemeenten"]["extent"]
    assert ogc_client.get("/ogc/collections/nope").status_code == 404


def test_paging_follows_next_links_to_every_feature(ogc_client, ogc_db):
    url = "/ogc/collections/bedrijventerreinen/items?limit=70"
    seen, pages = [], 0
    while url:
        doc = ogc_client.get(url).json()
        seen += [f["id"] for f in doc["features"]]
        assert doc["numberReturned"] == len(doc["features"])
        url = rels(doc).get("next")
        pages += 1
    with ogc_db.engine.connect() as conn:
        fids = read_features(conn, "bedrijventerreinen").fids.tolist()
    assert seen == sorted(fids) and pages == -(-len(fids) // 70)
    assert doc["numberMatched"] == len(fids)


def test_number_matched_is_left_out_above_the_count_cap(ogc_client, monkeypatch):
    monkeypatch.setattr(ogc, "COUNT_MAX", 50)
    doc = ogc_client.get("/ogc/collections/vestigingen/items?limit=10").json()
    assert "numberMatched" not in doc and "next" in rels(doc)
    # The last page still knows the total exactly, without counting.
    last = ogc_client.get("/ogc/collections/gemeenten/items?limit=100").json()
    assert last["numberMatched"] == 26


def test_bbox_in_rd_and_crs_rd_match_an_independent_selection(ogc_client, ogc_db):
    box = (130_000.0, 450_000.0, 140_000.0, 460_000.0)
    resp = ogc_client.get(
        "/ogc/collections/bedrijventerreinen/items",
        params={"bbox": ",".join(map(str, box)), "bbox-crs": RD, "crs": RD, "limit": 1000},
    )
    assert resp.status_code == 200 and resp.headers["content-crs"] == f"<{RD}>"
    got = {f["id"] for f in resp.json()["features"]}
    with ogc_db.engine.connect() as conn:
        ff = read_features(conn, "bedrijventerreinen")
    expected = {
        int(i)
        for i, g in zip(ff.fids, ff.geometries, strict=True)
        if g.intersects(shapely.box(*box))
    }
    assert got == expected and len(got) > 3
    x, y = shapely.get_coordinates(shapely.geometry.shape(resp.json()["features"][0]["geometry"]))[
        0
    ]
    assert 100_000 < x < 200_000 and 400_000 < y < 500_000


def test_epsg4258_is_lat_lon_and_agrees_with_crs84(ogc_client):
    a = ogc_client.get("/ogc/collections/vestigingen/items?limit=5").json()
    b = ogc_client.get("/ogc/collections/vestigingen/items", params={"limit": 5, "crs": ETRS89})
    assert b.headers["content-crs"] == f"<{ETRS89}>"
    for fa, fb in zip(a["features"], b.json()["features"], strict=True):
        lon, lat = fa["geometry"]["coordinates"]
        assert fb["geometry"]["coordinates"] == pytest.approx([lat, lon], abs=1e-6)
        assert 51 < lat < 53 and 4 < lon < 6


def test_bbox_crs_4258_takes_lat_lon(ogc_client):
    lonlat = ogc_client.get(
        "/ogc/collections/vestigingen/items",
        params={"bbox": "5.05,52.05,5.15,52.12", "limit": 1000},
    ).json()
    latlon = ogc_client.get(
        "/ogc/collections/vestigingen/items",
        params={"bbox": "52.05,5.05,52.12,5.15", "bbox-crs": ETRS89, "limit": 1000},
    ).json()
    assert {f["id"] for f in lonlat["features"]} == {f["id"] for f in latlon["features"]}
    assert lonlat["numberReturned"] > 0


@pytest.mark.parametrize(
    "params",
    [
        {"crs": "EPSG:3857"},
        {"bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/2154", "bbox": "1,2,3,4"},
        {"bbox": "1,2,3"},
        {"limit": "0"},
        {"limit": "x"},
        {"datetime": "gisteren"},
        {"unknown_field": "1"},
    ],
)
def test_bad_parameters_are_400(ogc_client, params):
    resp = ogc_client.get("/ogc/collections/reserveringen/items", params=params)
    assert resp.status_code == 400, resp.text
    assert resp.headers["content-type"] == "application/problem+json"


def test_property_filter(ogc_client, ogc_db):
    doc = ogc_client.get("/ogc/collections/reserveringen/items?status=hard&limit=1000").json()
    with ogc_db.engine.connect() as conn:
        ff = read_features(conn, "reserveringen")
    expected = set(ff.fids[(ff.properties["status"] == "hard").to_numpy()].tolist())
    assert {f["id"] for f in doc["features"]} == expected and expected
    assert doc["numberMatched"] == len(expected)


@pytest.mark.parametrize(
    "interval",
    [
        "2030-06-01",
        "../2026-01-01",
        "2035-01-01/..",
        "2027-01-01/2028-12-31",
        "2027-01-01T12:00:00Z/2028-12-31T00:00:00Z",
    ],
)
def test_datetime_selects_on_the_validity_period(ogc_client, ogc_db, interval):
    doc = ogc_client.get(
        "/ogc/collections/reserveringen/items", params={"datetime": interval, "limit": 1000}
    ).json()
    parts = [p[:10] for p in interval.split("/")] if "/" in interval else [interval, interval]
    lo = None if parts[0] == ".." else date.fromisoformat(parts[0])
    hi = None if parts[1] == ".." else date.fromisoformat(parts[1])
    with ogc_db.engine.connect() as conn:
        ff = read_features(conn, "reserveringen")
    expected = set()
    for fid, (_, row) in zip(ff.fids, ff.properties.iterrows(), strict=True):
        start = (
            date.fromisoformat(row["geldig_van"]) if isinstance(row["geldig_van"], str) else None
        )
        end = date.fromisoformat(row["geldig_tot"]) if isinstance(row["geldig_tot"], str) else None
        if (hi is None or start is None or start <= hi) and (
            lo is None or end is None or end >= lo
        ):
            expected.add(int(fid))
    got = {f["id"] for f in doc["features"]}
    assert got == expected
    assert 0 < len(got) <= len(ff.fids)


@pytest.mark.parametrize("value", ["2025-01-01", "2020-01-01T/..", "../2030-01-01T00:00:00Z"])
def test_datetime_on_a_layer_without_time_matches_every_feature(ogc_client, value):
    resp = ogc_client.get("/ogc/collections/gemeenten/items", params={"datetime": value})
    assert resp.status_code == 200 and resp.json()["numberMatched"] == 26


@pytest.mark.parametrize(
    ("gdal", "plain"),
    [
        ("2030-01-01T/..", "2030-01-01/.."),
        ("../2026-01-01T", "../2026-01-01"),
        ("2027-01-01T/2028-12-31T", "2027-01-01/2028-12-31"),
        ("2027-01-01T12Z/2028-12-31T00:30Z", "2027-01-01/2028-12-31"),
        ("2030-06-01T", "2030-06-01"),
    ],
)
def test_datetime_takes_dates_with_a_trailing_t_as_gdal_sends_them(ogc_client, gdal, plain):
    def ids(value):
        resp = ogc_client.get(
            "/ogc/collections/reserveringen/items", params={"datetime": value, "limit": 1000}
        )
        assert resp.status_code == 200, resp.text
        return {f["id"] for f in resp.json()["features"]}

    assert ids(gdal) == ids(plain) and ids(plain)


def test_single_item_and_404(ogc_client):
    first = ogc_client.get("/ogc/collections/gemeenten/items?limit=1").json()["features"][0]
    one = ogc_client.get(f"/ogc/collections/gemeenten/items/{first['id']}")
    assert one.status_code == 200 and one.headers["content-type"] == "application/geo+json"
    assert one.json()["properties"] == first["properties"] and rels(one.json())[
        "collection"
    ].endswith("/gemeenten")
    assert ogc_client.get("/ogc/collections/gemeenten/items/999999999").status_code == 404
    assert ogc_client.get("/ogc/collections/gemeenten/items/abc").status_code == 404
    rd = ogc_client.get(f"/ogc/collections/gemeenten/items/{first['id']}?crs={RD}")
    assert rd.headers["content-crs"] == f"<{RD}>"
    x, y = shapely.get_coordinates(shapely.geometry.shape(rd.json()["geometry"]))[0]
    lon, lat = shapely.get_coordinates(shapely.geometry.shape(first["geometry"]))[0]
    back = shapely.get_coordinates(reproject(np.array([shapely.Point(x, y)]), RD_NEW, WGS84))[0]
    assert back == pytest.approx([lon, lat], abs=1e-6)


@pytest.mark.parametrize(
    "path",
    [
        "/ogc",
        "/ogc/conformance",
        "/ogc/collections",
        "/ogc/collections/reserveringen",
        "/ogc/collections/reserveringen/items",
        "/ogc/collections/reserveringen/items?limit=3",
    ],
)
def test_html_pages_are_dutch(ogc_client, path):
    sep = "&" if "?" in path else "?"
    resp = ogc_client.get(f"{path}{sep}f=html")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    assert '<html lang="nl">' in resp.text
    # A browser's Accept header gets HTML too; a GeoJSON client's gets JSON.
    browser = ogc_client.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.headers["content-type"].startswith("text/html")
    assert (
        ogc_client.get(path, headers={"Accept": "application/geo+json, application/json"})
        .headers["content-type"]
        .startswith("application/")
    )


def test_item_html_shows_dutch_labels(ogc_client):
    fid = ogc_client.get("/ogc/collections/bedrijventerreinen/items?limit=1").json()["features"][0][
        "id"
    ]
    text = ogc_client.get(f"/ogc/collections/bedrijventerreinen/items/{fid}?f=html").text
    assert "Maximale milieucategorie" in text and "Bruto oppervlakte (ha)" in text


def test_unpublished_layers_are_hidden_and_the_catalogue_cache_follows_changes(ogc_client, ogc_db):
    from layers.store import set_layer_meta

    assert ogc_client.get("/ogc/collections/water/items?limit=1").status_code == 200
    assert ogc_client.get("/tiles/water/10/525/337.mvt").status_code == 200
    with ogc_db.engine.begin() as conn:
        set_layer_meta(conn, "water", published=False, title="Water (verborgen)")
    try:
        for path in (
            "/ogc/collections/water",
            "/ogc/collections/water/items",
            "/ogc/collections/water/items?f=csv",
            "/ogc/collections/water/queryables",
            "/tiles/water/10/525/337.mvt",
        ):
            assert ogc_client.get(path).status_code == 404, path
            assert ogc_client.head(path).status_code == 404, path
        assert "water" not in {
            c["id"] for c in ogc_client.get("/ogc/collections").json()["collections"]
        }
        assert "/collections/water/items" not in ogc_client.get("/ogc/api").json()["paths"]
    finally:
        with ogc_db.engine.begin() as conn:
            set_layer_meta(conn, "water", published=True, title="Water (weer zichtbaar)")
    assert (
        ogc_client.get("/ogc/collections/water/items?f=html").text.count("Water (weer zichtbaar)")
        >= 1
    )


@pytest.mark.parametrize("bbox", ["0,0,0,50.6", "5.1,51.9,5.1,52.2", "5.1,52.1,5.1,52.1"])
def test_a_bbox_that_is_a_line_or_a_point_is_no_server_error(ogc_client, bbox):
    """Found by schemathesis on the per-collection paths: a zero-width box was segmentized
    into millions of pieces (PostgreSQL: invalid memory alloc request)."""
    resp = ogc_client.get("/ogc/collections/reserveringen/items", params={"bbox": bbox})
    assert resp.status_code == 200, resp.text


PARTS = {
    "hoofdstructuur-knooppunten": {"Point", "MultiPoint"},
    "hoofdstructuur-verbindingen": {"LineString", "MultiLineString"},
    "hoofdstructuur-deelgebieden": {"Polygon", "MultiPolygon"},
}


def test_a_mixed_layer_is_offered_as_one_collection_per_geometry_type(ogc_client, ogc_db):
    ids = [c["id"] for c in ogc_client.get("/ogc/collections").json()["collections"]]
    assert set(PARTS) <= set(ids) and "hoofdstructuur" not in ids
    with ogc_db.engine.connect() as conn:
        ff = read_features(conn, "hoofdstructuur")
    types = dict(zip(ff.fids.tolist(), shapely.get_type_id(ff.geometries).tolist(), strict=True))
    seen: set[int] = set()
    for cid, allowed in PARTS.items():
        meta = ogc_client.get(f"/ogc/collections/{cid}").json()
        assert meta["id"] == cid and meta["title"].endswith(" – " + cid.split("-")[1])
        doc = ogc_client.get(f"/ogc/collections/{cid}/items?limit=1000").json()
        got = {f["geometry"]["type"] for f in doc["features"]}
        assert got and got <= allowed, (cid, got)
        seen |= {f["id"] for f in doc["features"]}
        one = doc["features"][0]["id"]
        assert ogc_client.get(f"/ogc/collections/{cid}/items/{one}").status_code == 200
        q = ogc_client.get(f"/ogc/collections/{cid}/queryables").json()
        assert q["properties"]["geometry"]["format"].startswith("geometry-")
    assert seen == set(types)  # the parts hold every feature, each once
    # the whole layer stays addressable, and a feature is not found in another part
    assert ogc_client.get("/ogc/collections/hoofdstructuur/items?limit=1").status_code == 200
    point = next(
        iter(ogc_client.get("/ogc/collections/hoofdstructuur-knooppunten/items").json()["features"])
    )["id"]
    assert (
        ogc_client.get(f"/ogc/collections/hoofdstructuur-verbindingen/items/{point}").status_code
        == 404
    )
    assert ogc_client.get("/ogc/collections/hoofdstructuur-nope").status_code == 404
    assert ogc_client.get("/ogc/collections/gemeenten-vlakken").status_code == 404
    api = ogc_client.get("/ogc/api").json()
    assert all(f"/collections/{cid}/items" in api["paths"] for cid in PARTS)


@pytest.mark.parametrize("bbox", ["-180,-90,180,90", "-10,40,20,60", "4,51,6,53"])
def test_a_bbox_around_the_province_or_the_world_holds_every_feature(ogc_client, bbox):
    """The world's corners have no RD coordinates: the box is cut to where RD New is defined
    before it is transformed (a world box matched nothing before)."""
    doc = ogc_client.get("/ogc/collections/bedrijventerreinen/items", params={"bbox": bbox}).json()
    assert doc["numberMatched"] == 300
