"""owslib's OGC API – Features client against the live service."""

from __future__ import annotations

import pytest

owslib_features = pytest.importorskip("owslib.ogcapi.features")


def test_owslib_reads_landing_conformance_collections_and_items(ogc_server):
    api = owslib_features.Features(f"{ogc_server.url}/ogc")
    assert (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
        in api.conformance()["conformsTo"]
    )
    ids = [c["id"] for c in api.collections()["collections"]]
    assert "reserveringen" in ids and "gemeenten" in ids
    meta = api.collection("reserveringen")
    assert meta["storageCrs"] == "http://www.opengis.net/def/crs/EPSG/0/28992"
    page = api.collection_items("reserveringen", limit=10, status="hard")
    assert page["type"] == "FeatureCollection" and 0 < page["numberReturned"] <= 10
    assert all(f["properties"]["status"] == "hard" for f in page["features"])
    one = api.collection_item("reserveringen", str(page["features"][0]["id"]))
    assert one["id"] == page["features"][0]["id"]
    box = api.collection_items("vestigingen", bbox=[5.05, 52.05, 5.15, 52.12], limit=1000)
    assert box["numberReturned"] > 0


def test_owslib_api_is_openapi_30_with_the_collection_paths(ogc_server):
    api = owslib_features.Features(f"{ogc_server.url}/ogc")
    doc = api.api()
    assert doc["openapi"].startswith("3.0.")
    assert "/collections/reserveringen/items" in doc["paths"]
    classes = api.conformance()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter" in classes


def test_owslib_queryables_and_items_with_a_filter(ogc_server, ogc_db):
    from layers.store import read_features

    api = owslib_features.Features(f"{ogc_server.url}/ogc")
    schema = api.collection_queryables("reserveringen")
    props = schema["properties"]
    assert props["status"]["enum"] == ["zacht", "hard"] and props["geldig_van"]["format"] == "date"
    assert props["geometry"]["x-ogc-role"] == "primary-geometry"
    with ogc_db.engine.connect() as conn:
        ff = read_features(conn, "reserveringen")
    hard = ff.properties["status"] == "hard"
    gm = ff.properties["gemeente"][hard].mode()[0]
    expected = set(ff.fids[(hard & (ff.properties["gemeente"] == gm)).to_numpy()].tolist())
    page = api.collection_items(
        "reserveringen", limit=1000, filter=f"status = 'hard' AND gemeente = '{gm}'"
    )
    assert {f["id"] for f in page["features"]} == expected and expected
    as_json = api.collection_items(
        "reserveringen",
        limit=1000,
        filter='{"op": "=", "args": [{"property": "status"}, "hard"]}',
        **{"filter-lang": "cql2-json"},
    )
    assert all(f["properties"]["status"] == "hard" for f in as_json["features"])
