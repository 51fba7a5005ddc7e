"""Every probe of the adversarial test (issue 11.3) gets a clear 4xx and changes nothing.

Each case sends one bad request and asserts the status, a problem+json body with a detail,
where the problem is (``errors``), and that the store's row counts are what they were.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.app.conftest import auth, make_app
from tests.app.test_access import reservering
from tests.helpers import table_counts

RES = "/api/layers/reserveringen/features"
P = auth("provincie")
JSON_H = {**P, "content-type": "application/json"}
GEOM = json.dumps(reservering()["geometry"])
PROPS = '"naam": "x", "gemeente": "GM0344", "doel": "d", "status": "zacht"'


def raw_feature(props: str = PROPS, geometry: str = GEOM, extra: str = "") -> bytes:
    return (
        f'{{"type": "Feature", "properties": {{{props}}}, "geometry": {geometry}{extra}}}'.encode()
    )


def problem(resp, status: int) -> dict:
    assert resp.status_code == status, resp.text[:500]
    assert resp.headers["content-type"] == "application/problem+json", resp.headers
    body = resp.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def locs(body: dict) -> list[str]:
    return [
        ".".join(str(p) for p in e.get("loc", [])) or e.get("field", "")
        for e in body.get("errors", [])
    ]


@pytest.fixture(scope="module")
def failed_run(demo_engine):
    """A run that failed (and one still running), stored as the runner stores them."""
    import scenarios
    from scenarios import store

    with demo_engine.begin() as conn:
        spec = store.save_spec(conn, scenarios.load_preset("pbl-2023-bedrijventerreinen-40"))
        failed = store.create_run(conn, spec, "test")
        store.fail_run(conn, failed, "de gemeentenlaag ontbrak", {})
        running = store.create_run(conn, spec, "test")
    return failed, running


# -- bodies ---------------------------------------------------------------------------------------

DEEP = "[" * 10_000 + "]" * 10_000
BODY_PROBES = {
    "geometry type Circle": (
        raw_feature(geometry='{"type": "Circle", "coordinates": [5.1, 52.08], "radius": 10}'),
        422,
        "body.geometry",
    ),
    "JSON nested 10,000 levels": (
        f'{{"type": "Feature", "properties": {{"naam": {DEEP}}}, "geometry": null}}'.encode(),
        422,
        "body",
    ),
    "NUL in a property": (raw_feature(PROPS.replace('"x"', '"a\\u0000b"')), 422, "naam"),
    "lone surrogate in a property": (
        raw_feature(PROPS.replace('"x"', '"\\ud800"')),
        422,
        "body.properties.naam",
    ),
    "NUL in a key": (raw_feature(PROPS + ', "k\\u0000": 1'), 422, "body.properties.k\x00"),
    "invalid UTF-8 bytes": (raw_feature().replace(b'"x"', b'"\xed\xa0\x80"'), 422, "body"),
    "5,001-digit number": (raw_feature(PROPS + ', "naam2": ' + "9" * 5001), 422, "naam2"),
    "number beyond double range": (raw_feature(PROPS + ', "n": 1e400'), 422, "body.properties.n"),
    "NaN": (raw_feature(geometry='{"type": "Point", "coordinates": [NaN, 52]}'), 422, "geometry"),
    "unknown top-level member": (raw_feature(extra=', "crs": {}'), 422, "body.crs"),
    "draft not a boolean": (raw_feature(extra=', "draft": "ja"'), 422, "body.draft"),
    "id on a new feature": (raw_feature(extra=', "id": 12'), 422, "id"),
    "coordinates not numbers": (
        raw_feature(geometry='{"type": "Polygon", "coordinates": "abc"}'),
        422,
        "body.geometry",
    ),
    "ring not closed": (
        raw_feature(geometry='{"type": "Polygon", "coordinates": [[[5.1, 52], [5.2, 52]]]}'),
        422,
        "body.geometry",
    ),
    "gemeente in Unicode digits": (
        raw_feature(PROPS.replace('"GM0344"', '"4¹7"')),
        422,
        "gemeente",
    ),
    "gemeente that does not exist": (
        raw_feature(PROPS.replace("GM0344", "GM9999")),
        422,
        "gemeente",
    ),
    "not JSON": (b'{"type": "Feature", ', 400, None),
    "empty body": (b"", 400, None),
    "a JSON array": (b"[1, 2]", 422, None),
}


@pytest.mark.parametrize("probe", list(BODY_PROBES))
def test_bad_feature_bodies_are_refused(client, demo_engine, probe):
    body, status, where = BODY_PROBES[probe]
    before = table_counts(demo_engine)
    resp = client.post(RES, content=body, headers=JSON_H)
    doc = problem(resp, status)
    if where:
        assert any(where in loc for loc in locs(doc)), doc
    assert table_counts(demo_engine) == before


def test_a_geometry_over_the_vertex_limit_is_refused(client, demo_engine):
    n = 100_001  # RUIMTE_WEB_MAX_VERTICES defaults to 100,000
    ring = [[5.10 + 0.002 * i / n, 52.08 + 0.0001 * (i % 2)] for i in range(n - 1)]
    ring.append(ring[0])
    doc = reservering()
    doc["geometry"]["coordinates"] = [ring]
    before = table_counts(demo_engine)
    body = problem(client.post(RES, json=doc, headers=P), 422)
    assert "100,000 vertices" in body["detail"] and locs(body) == ["geometry"]
    assert table_counts(demo_engine) == before


def test_the_limits_are_settings(demo_engine):
    app = make_app(demo_engine, max_vertices=4, max_json_depth=8)
    with TestClient(app) as c:
        doc = reservering()
        assert problem(c.post(RES, json=doc, headers=P), 422)["errors"][0]["field"] == "geometry"
        doc["properties"]["naam"] = [[[[[[[["diep"]]]]]]]]
        assert "deeper than 8" in problem(c.post(RES, json=doc, headers=P), 422)["detail"]


def test_put_with_another_id_is_refused(client, demo_engine):
    fid = client.post(RES, json=reservering(), headers=P).json()["id"]
    tag = client.get(f"{RES}/{fid}", headers=P).headers["etag"]
    before = table_counts(demo_engine)
    doc = {**reservering(naam="Ander"), "id": fid + 1}
    body = problem(client.put(f"{RES}/{fid}", json=doc, headers={**P, "If-Match": tag}), 422)
    assert locs(body) == ["id"]
    assert table_counts(demo_engine) == before
    doc["id"] = fid  # the id it was read with is fine
    assert client.put(f"{RES}/{fid}", json=doc, headers={**P, "If-Match": tag}).status_code == 200


PATCH_PROBES = {
    "NUL in the title": ({"title": "Water\x00"}, "body.title"),
    "title null": ({"title": None}, "body.title"),
    "title too long": ({"title": "W" * 201}, "body.title"),
    "published not a boolean": ({"published": "ja"}, "body.published"),
    "unknown member": ({"kleur": "blauw"}, "body.kleur"),
    "not an object": (["published"], "body"),
}


@pytest.mark.parametrize("probe", list(PATCH_PROBES))
def test_bad_layer_patches_are_refused(client, demo_engine, probe):
    doc, where = PATCH_PROBES[probe]
    before = client.get("/api/layers/water", headers=P).json()
    body = problem(client.patch("/api/layers/water", json=doc, headers=P), 422)
    assert where in locs(body), body
    after = client.get("/api/layers/water", headers=P).json()
    assert (after["title"], after["published"]) == (before["title"], before["published"])


def test_scenario_spec_bodies_are_checked_like_the_others(client, demo_engine):
    before = client.get("/api/scenarios").json()["specs"]
    for body in (DEEP.encode(), b'{"name": "x\\u0000"}', b'{"name": ' + b"7" * 5001 + b"}"):
        resp = client.post("/api/scenarios", content=body, headers=JSON_H)
        problem(resp, 422)
    assert client.get("/api/scenarios").json()["specs"] == before


# -- paths and query strings ----------------------------------------------------------------------

BIG = 10**20
URL_PROBES = {
    "NUL in a path": ("/api/layers/re%00s", 400),
    "lone surrogate in a path": ("/api/layers/%ED%A0%80", 400),
    "NUL in a query": (f"{RES}?naam=a%00b", 422),
    "lone surrogate in a query": (f"{RES}?naam=%ED%A0%80", 422),
    "NUL in an OGC query": ("/ogc/collections/reserveringen/items?naam=%00", 400),
    "fid beyond bigint": (f"{RES}/{2**63}", 404),
    "fid of 20 digits": (f"{RES}/{BIG}", 404),
    "fid zero": (f"{RES}/0", 404),
    "history of a fid beyond bigint": (f"{RES}/{BIG}/history", 404),
    "offset beyond bigint": (f"{RES}?offset={BIG}", 422),
    "features version beyond integer": (f"{RES}?version={BIG}", 422),
    "layer version beyond integer": (f"/api/layers/reserveringen?version={BIG}", 422),
    "download version beyond integer": (f"/api/layers/water/download?version={BIG}", 422),
    "run id beyond integer": (f"/api/runs/{BIG}", 404),
    "run table of a run id beyond integer": (f"/api/runs/{BIG}/table.csv", 404),
    "run raster of a run id beyond integer": (f"/api/runs/{BIG}/rasters/allocation.tif", 404),
    "QGIS zip of a run id beyond integer": (f"/api/runs/{BIG}/qgis.zip", 404),
    "compare run ids beyond integer": (f"/api/runs/compare?a={BIG}&b=1", 422),
    "spec version beyond integer": (f"/api/scenarios/x?version={BIG}", 422),
    "scenario page of a run id beyond integer": (f"/scenario/{BIG}", 404),
    "scenario map compared with a run id beyond integer": (
        f"/kaart/scenario/1?vergelijk={BIG}",
        422,
    ),
    "OGC item id 4¹7": ("/ogc/collections/reserveringen/items/4¹7", 404),
    "OGC item id in Arabic-Indic digits": ("/ogc/collections/reserveringen/items/٣", 404),
    "OGC item id beyond bigint": (f"/ogc/collections/reserveringen/items/{BIG}", 404),
    "OGC offset beyond its cap": ("/ogc/collections/reserveringen/items?offset=" + str(BIG), 400),
    # issue 13: every tile index outside the matrix set is a 400, at every zoom
    "tile zoom beyond the matrix": (f"/tiles/reserveringen/{BIG}/0/0.mvt", 400),
}


@pytest.mark.parametrize("probe", list(URL_PROBES))
def test_bad_paths_and_queries_are_refused(client, demo_engine, probe):
    url, status = URL_PROBES[probe]
    before = table_counts(demo_engine)
    problem(client.get(url, headers=P), status)
    assert table_counts(demo_engine) == before


WRITE_PROBES = {
    "PUT a fid beyond bigint": ("put", f"{RES}/{BIG}", 404),
    "DELETE a fid beyond bigint": ("delete", f"{RES}/{BIG}", 404),
    "restore a fid beyond bigint": ("post", f"{RES}/{BIG}/restore?version=1", 404),
    "restore a version beyond integer": ("post", f"{RES}/1/restore?version={BIG}", 422),
    "POST with NUL in the query": ("post", f"{RES}?crs=%00", 422),
}


@pytest.mark.parametrize("probe", list(WRITE_PROBES))
def test_bad_write_urls_are_refused(client, demo_engine, probe):
    method, url, status = WRITE_PROBES[probe]
    before = table_counts(demo_engine)
    kwargs = {"json": reservering()} if method in ("put", "post") else {}
    problem(client.request(method, url, headers={**P, "If-Match": "*"}, **kwargs), status)
    assert table_counts(demo_engine) == before


# -- runs without a result ------------------------------------------------------------------------


def test_a_failed_run_has_a_page_and_no_zip(client, failed_run):
    failed, running = failed_run
    page = client.get(f"/scenario/{failed}")
    assert page.status_code == 409 and page.headers["content-type"].startswith("text/html")
    assert "mislukt" in page.text and "de gemeentenlaag ontbrak" in page.text
    assert "loopt nog" in client.get(f"/scenario/{running}").text
    assert client.get(f"/kaart/scenario/{failed}").status_code == 409
    body = problem(client.get(f"/api/runs/{failed}/qgis.zip"), 409)
    assert "failed" in body["detail"] and "de gemeentenlaag ontbrak" in body["detail"]
    problem(client.get(f"/api/runs/{running}/qgis.zip"), 409)
    problem(client.get(f"/api/runs/{failed}/table.csv"), 400)


# -- the attribute side (layers/kinds coercion) surfaces as 422 naming the field ------------------


@pytest.mark.parametrize(
    ("value", "field"),
    [({"x": 1}, "naam"), ([1, 2], "doel"), ("x" * 5_000_000, "naam")],
    ids=["object as text", "array as text", "5 MB string"],
)
def test_wrong_attribute_values_are_422_naming_the_field(client, demo_engine, value, field):
    doc = reservering()
    doc["properties"][field] = value
    before = table_counts(demo_engine)
    body = problem(client.post(RES, json=doc, headers=P), 422)
    assert field in locs(body), body
    assert table_counts(demo_engine) == before
