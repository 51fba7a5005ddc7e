"""OGC API – Features Part 4 (create, replace, delete) shares the REST API's writes: the same
roles, ownership, checks, ETag/If-Match and history; only the URLs are the OGC API's."""

from __future__ import annotations

import pytest

from tests.app.conftest import auth

ITEMS = "/ogc/collections/reserveringen/items"
RD = "http://www.opengis.net/def/crs/EPSG/0/28992"


def square(x: float, y: float, size: float = 150.0) -> dict:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def reservering(naam: str, x: float = 136_000.0, y: float = 455_000.0, **props) -> dict:
    return {
        "type": "Feature",
        "properties": {
            "naam": naam,
            "gemeente": "GM0344",
            "doel": "opslag",
            "status": "zacht",
            **props,
        },
        "geometry": square(x, y),
    }


RD_CRS = {"Content-Crs": f"<{RD}>"}


@pytest.fixture
def created(client):
    resp = client.post(ITEMS, json=reservering("OGC nieuw"), headers=auth("utrecht") | RD_CRS)
    assert resp.status_code == 201, resp.text
    return resp


def test_create_answers_201_with_the_ogc_location_and_an_etag(client, created):
    location = created.headers["location"]
    fid = created.json()["id"]
    assert location.endswith(f"{ITEMS}/{fid}") and created.json()["href"] == location
    got = client.get(location, headers=auth("utrecht"))
    assert got.status_code == 200 and got.headers["etag"] == created.headers["etag"]
    assert got.json()["properties"]["naam"] == "OGC nieuw"
    # the same feature, the same history as through the REST API
    rest = client.get(f"/api/layers/reserveringen/features/{fid}", headers=auth("utrecht"))
    assert rest.headers["etag"] == created.headers["etag"]
    history = client.get(
        f"/api/layers/reserveringen/features/{fid}/history", headers=auth("utrecht")
    ).json()
    assert [v["change"] for v in history["versions"]] == ["create"]
    assert history["versions"][0]["changed_by"]


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("lezer", 403), ("amersfoort", 403)])
def test_the_rest_apis_roles_apply(client, role, status):
    headers = (auth(role) if role else {}) | RD_CRS
    resp = client.post(ITEMS, json=reservering("Niet van mij"), headers=headers)
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"


def test_a_gemeente_editor_cannot_create_outside_their_gemeente(client):
    far = reservering("In Amersfoort", x=155_000.0, y=463_000.0)
    resp = client.post(ITEMS, json=far, headers=auth("utrecht") | RD_CRS)
    assert resp.status_code == 403 and "outside" in resp.json()["detail"]


def test_replace_needs_if_match_and_refuses_a_stale_one(client, created):
    location, tag = created.headers["location"], created.headers["etag"]
    body = reservering("OGC gewijzigd", status="hard")
    assert client.put(location, json=body, headers=auth("utrecht") | RD_CRS).status_code == 428
    ok = client.put(location, json=body, headers=auth("utrecht") | RD_CRS | {"If-Match": tag})
    assert ok.status_code == 200, ok.text
    assert ok.headers["etag"] != tag and ok.headers["location"] == location
    stale = client.put(location, json=body, headers=auth("utrecht") | RD_CRS | {"If-Match": tag})
    assert stale.status_code == 412
    # a gemeente-editor's feature is a concept: its gemeente reads it, the public does not
    assert client.get(location).status_code == 404
    now = client.get(location, headers=auth("utrecht")).json()
    assert now["properties"]["status"] == "hard" and now["properties"]["naam"] == "OGC gewijzigd"


def test_delete_needs_if_match_and_keeps_the_history(client, created):
    location, tag = created.headers["location"], created.headers["etag"]
    fid = created.json()["id"]
    assert client.delete(location, headers=auth("utrecht")).status_code == 428
    gone = client.delete(location, headers=auth("utrecht") | {"If-Match": tag})
    assert gone.status_code == 204
    assert client.get(location).status_code == 404
    history = client.get(
        f"/api/layers/reserveringen/features/{fid}/history", headers=auth("utrecht")
    ).json()
    assert [v["change"] for v in history["versions"]][0] == "create"
    assert history["versions"][-1]["version_to"] is not None


def test_invalid_features_are_422_listing_every_problem(client):
    bad = reservering("Fout", status="misschien", gemeente="GM9999")
    resp = client.post(ITEMS, json=bad, headers=auth("provincie") | RD_CRS)
    assert resp.status_code == 422
    assert resp.headers["content-type"] == "application/problem+json"
    fields = {e.get("field") for e in resp.json().get("errors", [])}
    assert "status" in fields or "gemeente" in fields


@pytest.mark.parametrize("feature_id", ["abc", "0", "-1", "99999999999999999999", "4¹7"])
def test_a_feature_id_that_names_nothing_is_404(client, feature_id):
    headers = auth("provincie") | {"If-Match": '"1-1"'}
    assert client.delete(f"{ITEMS}/{feature_id}", headers=headers).status_code == 404
    put = client.put(f"{ITEMS}/{feature_id}", json=reservering("x"), headers=headers | RD_CRS)
    assert put.status_code == 404


def test_the_conformance_declares_part_4(client):
    classes = client.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete" in classes
