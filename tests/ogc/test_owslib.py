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
