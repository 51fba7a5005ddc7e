"""OGC API – Features Part 3 (queryables, CQL2 ``filter``), ``sortby``, ``properties``,
``skipGeometry`` and CSV / GeoJSON text sequence output, each operator checked against an
independent geopandas selection on the same data."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import cql2
import geopandas as gpd
import numpy as np
import pytest
import shapely

from layers.store import read_features

RD = "http://www.opengis.net/def/crs/EPSG/0/28992"
AREA = shapely.Polygon([(5.05, 52.05), (5.15, 52.05), (5.15, 52.12), (5.05, 52.12)])
AREA_WKT = "POLYGON((5.05 52.05, 5.15 52.05, 5.15 52.12, 5.05 52.12, 5.05 52.05))"
RD_BOX = (130_000, 450_000, 140_000, 460_000)


@pytest.fixture(scope="module")
def frames(ogc_db):
    """Each layer as a GeoDataFrame in RD New (read straight from the store)."""
    out = {}
    with ogc_db.engine.connect() as conn:
        for name in ("bedrijventerreinen", "reserveringen", "strategische_locaties"):
            ff = read_features(conn, name)
            gdf = gpd.GeoDataFrame(ff.properties.copy(), geometry=list(ff.geometries), crs=28992)
            gdf["fid"] = ff.fids
            out[name] = gdf
    return out


def _area_rd():
    return gpd.GeoSeries([AREA], crs="OGC:CRS84").to_crs(28992).iloc[0]


def _d(col):
    return col.map(date.fromisoformat)


#: (layer, CQL2 text, selection on the GeoDataFrame, extra query parameters)
CASES = [
    ("bedrijventerreinen", "bruto_ha > 50", lambda g: g.bruto_ha > 50, {}),
    ("bedrijventerreinen", "bruto_ha <= 20", lambda g: g.bruto_ha <= 20, {}),
    ("bedrijventerreinen", "type_werklocatie <> 'B'", lambda g: g.type_werklocatie != "B", {}),
    ("bedrijventerreinen", "gemeente = 'GM0307'", lambda g: g.gemeente == "GM0307", {}),
    (
        "bedrijventerreinen",
        "naam LIKE 'Industrieterrein%'",
        lambda g: g.naam.str.startswith("Industrieterrein"),
        {},
    ),
    (
        "bedrijventerreinen",
        "naam LIKE '%Amersfoort'",
        lambda g: g.naam.str.endswith("Amersfoort"),
        {},
    ),
    (
        "bedrijventerreinen",
        "naam LIKE '_ndustrie%'",
        lambda g: g.naam.str.match(r"^.ndustrie"),
        {},
    ),
    (
        "bedrijventerreinen",
        "CASEI(naam) LIKE CASEI('%KANAALZONE%')",
        lambda g: g.naam.str.lower().str.contains("kanaalzone"),
        {},
    ),
    (
        "bedrijventerreinen",
        "CASEI(planstatus) = CASEI('BESTAAND')",
        lambda g: g.planstatus.str.lower() == "bestaand",
        {},
    ),
    (
        "bedrijventerreinen",
        "terreintype IN ('zware_industrie', 'haven')",
        lambda g: g.terreintype.isin(["zware_industrie", "haven"]),
        {},
    ),
    (
        "bedrijventerreinen",
        "gemeente NOT IN ('GM0307', 'GM0344')",
        lambda g: ~g.gemeente.isin(["GM0307", "GM0344"]),
        {},
    ),
    (
        "bedrijventerreinen",
        "bruto_ha BETWEEN 10 AND 40",
        lambda g: g.bruto_ha.between(10, 40),
        {},
    ),
    ("bedrijventerreinen", "rin_nummer IS NULL", lambda g: g.rin_nummer.isna(), {}),
    ("bedrijventerreinen", "rin_nummer IS NOT NULL", lambda g: g.rin_nummer.notna(), {}),
    ("bedrijventerreinen", "ontsluiting_water = true", lambda g: g.ontsluiting_water == True, {}),  # noqa: E712
    (
        "bedrijventerreinen",
        "max_milieucategorie >= 4",
        lambda g: g.max_milieucategorie.astype(float) >= 4,
        {},
    ),
    (
        "bedrijventerreinen",
        "max_milieucategorie = '4'",
        lambda g: g.max_milieucategorie == "4",
        {},
    ),
    (
        "bedrijventerreinen",
        "bruto_ha > 50 AND ontsluiting_spoor = true",
        lambda g: (g.bruto_ha > 50) & (g.ontsluiting_spoor == True),  # noqa: E712
        {},
    ),
    (
        "bedrijventerreinen",
        "gemeente = 'GM0307' OR gemeente = 'GM0344'",
        lambda g: g.gemeente.isin(["GM0307", "GM0344"]),
        {},
    ),
    ("bedrijventerreinen", "NOT (bruto_ha > 50)", lambda g: ~(g.bruto_ha > 50), {}),
    (
        "bedrijventerreinen",
        "uitgegeven_ha < netto_ha",
        lambda g: g.uitgegeven_ha < g.netto_ha,
        {},
    ),
    (
        "bedrijventerreinen",
        f"S_INTERSECTS(geometry, {AREA_WKT})",
        lambda g: g.intersects(_area_rd()),
        {},
    ),
    (
        "bedrijventerreinen",
        "S_INTERSECTS(geometry, BBOX(5.05, 52.05, 5.15, 52.12)) AND bruto_ha > 5",
        lambda g: g.intersects(_area_rd()) & (g.bruto_ha > 5),
        {},
    ),
    (
        "bedrijventerreinen",
        "S_INTERSECTS(geometry, BBOX({}, {}, {}, {}))".format(*RD_BOX),
        lambda g: g.intersects(shapely.box(*RD_BOX)),
        {"filter-crs": RD},
    ),
    (
        "reserveringen",
        "geldig_van >= DATE('2024-06-01')",
        lambda g: _d(g.geldig_van) >= date(2024, 6, 1),
        {},
    ),
    (
        "reserveringen",
        "geldig_van < '2023-06-01'",
        lambda g: _d(g.geldig_van) < date(2023, 6, 1),
        {},
    ),
    (
        "reserveringen",
        "geldig_van >= TIMESTAMP('2024-06-01T00:00:00Z')",
        lambda g: _d(g.geldig_van) >= date(2024, 6, 1),
        {},
    ),
    (
        "reserveringen",
        "T_BEFORE(geldig_van, DATE('2023-06-01'))",
        lambda g: _d(g.geldig_van) < date(2023, 6, 1),
        {},
    ),
    (
        "reserveringen",
        "T_AFTER(geldig_tot, DATE('2036-01-01'))",
        lambda g: _d(g.geldig_tot) > date(2036, 1, 1),
        {},
    ),
    (
        "reserveringen",
        "T_INTERSECTS(geldig_van, INTERVAL('2023-01-01', '2023-12-31'))",
        lambda g: _d(g.geldig_van).between(date(2023, 1, 1), date(2023, 12, 31)),
        {},
    ),
    (
        "reserveringen",
        "T_DURING(geldig_van, INTERVAL('2023-01-01', '2024-12-31'))",
        lambda g: (_d(g.geldig_van) > date(2023, 1, 1)) & (_d(g.geldig_van) < date(2024, 12, 31)),
        {},
    ),
    (
        "reserveringen",
        "T_EQUALS(geldig_tot, DATE('2040-12-31'))",
        lambda g: _d(g.geldig_tot) == date(2040, 12, 31),
        {},
    ),
    (
        "reserveringen",
        "status = 'hard' AND geldig_van >= '2024-01-01'",
        lambda g: (g.status == "hard") & (_d(g.geldig_van) >= date(2024, 1, 1)),
        {},
    ),
    (
        "strategische_locaties",
        "beschikbaar_vanaf > 2028",
        lambda g: g.beschikbaar_vanaf > 2028,
        {},
    ),
]
#: Filters whose right answer is no feature or every feature (no rin_nummer is missing).
TRIVIAL = {"rin_nummer IS NULL", "rin_nummer IS NOT NULL"}


def _ids(client, layer, params) -> set[int]:
    resp = client.get(f"/ogc/collections/{layer}/items", params={"limit": 10_000, **params})
    assert resp.status_code == 200, resp.text
    doc = resp.json()
    assert doc["numberReturned"] == len(doc["features"])
    return {f["id"] for f in doc["features"]}


@pytest.mark.parametrize(("layer", "text", "select", "extra"), CASES, ids=[c[1] for c in CASES])
def test_cql2_text_and_json_match_geopandas(ogc_client, frames, layer, text, select, extra):
    gdf = frames[layer]
    expected = set(gdf.fid[np.asarray(select(gdf), dtype=bool)].tolist())
    if text not in TRIVIAL:
        assert 0 < len(expected) < len(gdf), "the case should select some but not all"
    assert _ids(ogc_client, layer, {"filter": text, **extra}) == expected
    as_json = json.dumps(cql2.parse_text(text).to_json())
    got = _ids(ogc_client, layer, {"filter": as_json, "filter-lang": "cql2-json", **extra})
    assert got == expected


def test_filter_combines_with_bbox_datetime_and_property_parameters(ogc_client, frames):
    gdf = frames["reserveringen"]
    expected = set(gdf.fid[(gdf.status == "hard") & gdf.intersects(_area_rd())].tolist())
    got = _ids(
        ogc_client,
        "reserveringen",
        {"filter": "status = 'hard'", "bbox": "5.05,52.05,5.15,52.12", "datetime": "2020-01-01/.."},
    )
    assert got == expected
    assert (
        _ids(ogc_client, "reserveringen", {"status": "hard", "filter": "status = 'zacht'"}) == set()
    )


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"filter": "naam = 'x' AND foo = 1"}, "unknown property 'foo'"),
        ({"filter": "S_CONTAINS(geometry, POINT(5.1 52.1))"}, "'s_contains' is not supported"),
        ({"filter": "bruto_ha + 1 > 3"}, "'+' is not supported"),
        ({"filter": "upper(naam) = 'X'"}, "'upper' is not supported"),
        ({"filter": "naam ="}, "not valid cql2-text"),
        ({"filter": "bruto_ha = 'veel'"}, "bruto_ha is a number"),
        ({"filter": "naam = naam AND geometry = 1"}, "geometry"),
        ({"filter": "S_INTERSECTS(geometry, POINT(150000 450000))"}, "degrees"),
        ({"filter": "S_INTERSECTS(geometry, BBOX(0, 0, 1000, 1000))"}, "degrees"),
        (
            {"filter": "S_INTERSECTS(geometry, POLYGON((5 52, 5.1 52.1, 5.1 52, 5 52.1, 5 52)))"},
            "Self-intersection",
        ),
        ({"filter": "S_INTERSECTS(geometry, POLYGON EMPTY)"}, "empty"),
        ({"filter": "{not json", "filter-lang": "cql2-json"}, "not valid JSON"),
        ({"filter": "naam = 'x'", "filter-lang": "xml"}, "filter-lang"),
        ({"filter-lang": "cql2-text"}, "filter-lang without a filter"),
        ({"filter": "(" * 1000 + "bruto_ha > 1" + ")" * 1000}, "nested"),
        ({"filter": "NOT " * 1000 + "bruto_ha > 1"}, "nested"),
        ({"filter": "bruto_ha > 1", "filter-crs": "EPSG:4326"}, "filter-crs"),
        ({"sortby": "nope"}, "sortby: unknown property 'nope'"),
        ({"sortby": "naam:sideways"}, "sortby"),
        ({"properties": "naam,nope"}, "unknown property 'nope'"),
        ({"skipGeometry": "misschien"}, "skipGeometry"),
    ],
)
def test_unsupported_or_invalid_filters_are_400_naming_the_part(ogc_client, params, says):
    resp = ogc_client.get("/ogc/collections/bedrijventerreinen/items", params=params)
    assert resp.status_code == 400, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    assert says in resp.json()["detail"] + json.dumps(resp.json().get("errors", []))


def test_queryables_are_json_schema_of_the_kind_and_404_for_unknown(ogc_client):
    resp = ogc_client.get("/ogc/collections/bedrijventerreinen/queryables")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/schema+json"
    doc = resp.json()
    assert doc["type"] == "object" and doc["$schema"].startswith("https://json-schema.org/")
    props = doc["properties"]
    assert props["bruto_ha"] == {"title": "Bruto oppervlakte (ha)", "type": "number"}
    assert props["ontsluiting_water"]["type"] == "boolean"
    assert props["geometry"]["format"] == "geometry-multipolygon"
    links = ogc_client.get("/ogc/collections/bedrijventerreinen").json()["links"]
    assert any(link["rel"].endswith("/queryables") for link in links)
    assert ogc_client.get("/ogc/collections/nope/queryables").status_code == 404


def test_sortby_orders_and_pages_consistently(ogc_client, frames):
    gdf = frames["bedrijventerreinen"]
    order = gdf.sort_values(["gemeente", "bruto_ha", "fid"], ascending=[True, False, True])
    url = "/ogc/collections/bedrijventerreinen/items?sortby=gemeente,-bruto_ha&limit=70"
    seen = []
    while url:
        doc = ogc_client.get(url).json()
        seen += [f["id"] for f in doc["features"]]
        url = next((link["href"] for link in doc["links"] if link["rel"] == "next"), None)
    assert seen == order.fid.tolist()
    desc = ogc_client.get(
        "/ogc/collections/bedrijventerreinen/items", params={"sortby": "bruto_ha:desc", "limit": 5}
    ).json()
    assert [f["properties"]["bruto_ha"] for f in desc["features"]] == sorted(
        gdf.bruto_ha, reverse=True
    )[:5]


def test_properties_and_skip_geometry(ogc_client):
    doc = ogc_client.get(
        "/ogc/collections/bedrijventerreinen/items",
        params={"properties": "naam,bruto_ha", "skipGeometry": "true", "limit": 3},
    ).json()
    assert all(set(f["properties"]) == {"naam", "bruto_ha"} for f in doc["features"])
    assert all(f["geometry"] is None for f in doc["features"])
    none = ogc_client.get(
        "/ogc/collections/bedrijventerreinen/items", params={"properties": "", "limit": 2}
    ).json()
    assert all(f["properties"] == {} and f["geometry"] for f in none["features"])


def test_csv_output(ogc_client, frames):
    gdf = frames["reserveringen"]
    resp = ogc_client.get(
        "/ogc/collections/reserveringen/items",
        params={"f": "csv", "filter": "status = 'hard'", "crs": RD, "limit": 1000},
    )
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    hard = gdf[gdf.status == "hard"]
    assert sorted(int(r["id"]) for r in rows) == sorted(hard.fid.tolist())
    assert {"id", "naam", "status", "geldig_van", "wkt"} <= set(rows[0])
    by_id = dict(zip(hard.fid, hard.geometry, strict=True))
    for r in rows:
        geom = shapely.from_wkt(r["wkt"])
        assert shapely.hausdorff_distance(geom, by_id[int(r["id"])]) < 0.01
    slim = ogc_client.get(
        "/ogc/collections/reserveringen/items",
        params={"f": "csv", "properties": "naam", "skipGeometry": "true", "limit": 2},
        headers={"Accept": "text/csv"},
    )
    assert slim.text.splitlines()[0] == "id,naam" and 'rel="next"' in slim.headers["link"]


def test_geojson_text_sequence_output(ogc_client):
    resp = ogc_client.get(
        "/ogc/collections/bedrijventerreinen/items", params={"f": "geojsonseq", "limit": 7}
    )
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/geo+json-seq"
    records = resp.text.split("\x1e")
    assert records[0] == "" and len(records) == 8
    for rec in records[1:]:
        assert rec.endswith("\n")
        feature = json.loads(rec)
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "MultiPolygon"
    by_accept = ogc_client.get(
        "/ogc/collections/bedrijventerreinen/items?limit=2",
        headers={"Accept": "application/geo+json-seq"},
    )
    assert by_accept.headers["content-type"] == "application/geo+json-seq"


def test_items_carry_their_links_in_a_link_header_too(ogc_client):
    resp = ogc_client.get("/ogc/collections/bedrijventerreinen/items?limit=5&bbox=4,51,6,53")
    header = resp.headers["link"]
    assert 'rel="self"; type="application/geo+json"' in header
    assert 'rel="alternate"; type="text/csv"' in header and 'rel="next"' in header
    assert "/collections/bedrijventerreinen/queryables>; " in header
    assert 'rel="http://www.opengis.net/def/rel/ogc/1.0/queryables"' in header
    assert "bbox=4%2C51%2C6%2C53" in header  # no bare commas inside the URLs


@pytest.mark.parametrize(
    "world",
    [
        "S_INTERSECTS(geometry, BBOX(-180, -90, 180, 90))",
        "S_INTERSECTS(geometry, POLYGON((-180 -90, 180 -90, 180 90, -180 90, -180 -90)))",
    ],
)
def test_a_filter_geometry_around_the_world_selects_everything(ogc_client, frames, world):
    """A geometry in degrees is cut to where RD New is defined before it is transformed (the
    corners of the world have no RD coordinates)."""
    assert _ids(ogc_client, "bedrijventerreinen", {"filter": world}) == set(
        frames["bedrijventerreinen"].fid
    )
