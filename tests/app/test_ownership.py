"""Ownership by geometry (issue 11.2): a gemeente-editor writes only within their gemeente,
and nobody writes a gemeente that does not exist. Geometries are made from the stored
gemeenten layer (sent in RD New), so the tests hold whatever borders the demo data has."""

from __future__ import annotations

import re

import pytest
import shapely
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import AuthSettings, PlanningSettings
from layers.store import read_features
from tests.app.conftest import auth, web_settings
from tests.app.test_access import headers
from tests.helpers import table_counts

RES = "/api/layers/reserveringen/features"
RD = {"crs": "http://www.opengis.net/def/crs/EPSG/0/28992"}


@pytest.fixture(scope="module")
def borders(demo_engine) -> dict[str, shapely.Geometry]:
    with demo_engine.connect() as conn:
        ff = read_features(conn, "gemeenten")
    return dict(zip(ff.properties["statcode"], ff.geometries, strict=True))


def square_in(area: shapely.Geometry, size: float = 60.0) -> shapely.Geometry:
    p = area.representative_point()
    return shapely.box(p.x - size / 2, p.y - size / 2, p.x + size / 2, p.y + size / 2)


def doc(geometry: shapely.Geometry, gemeente: str = "GM0344", naam: str = "Eigendom") -> dict:
    return {
        "type": "Feature",
        "properties": {"naam": naam, "gemeente": gemeente, "doel": "hub", "status": "zacht"},
        "geometry": shapely.geometry.mapping(geometry),
    }


def post(client, role, body):
    return client.post(RES, params=RD, json=body, headers=headers(role))


def refused(resp, status: int) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    return resp.json()


def outside_ha(body: dict) -> float:
    m = re.search(r"([\d.]+) (ha|m²)", body["detail"])
    assert m, body["detail"]
    return float(m[1]) * (1 if m[2] == "ha" else 1e-4)


def test_a_gemeente_editor_cannot_create_in_amersfoort(client, demo_engine, borders):
    before = table_counts(demo_engine)
    body = refused(post(client, "utrecht", doc(square_in(borders["GM0307"]))), 403)
    assert "outside GM0344" in body["detail"] and body["errors"][0]["field"] == "geometry"
    assert outside_ha(body) == pytest.approx(0.36, abs=0.01)  # all of the 60 m square
    assert table_counts(demo_engine) == before


def test_a_gemeente_editor_cannot_move_one_into_amersfoort(client, demo_engine, borders):
    created = post(client, "utrecht", doc(square_in(borders["GM0344"])))
    assert created.status_code == 201, created.text
    fid = created.json()["id"]
    tag = created.headers["etag"]
    before = table_counts(demo_engine)
    moved = client.put(
        f"{RES}/{fid}",
        params=RD,
        json=doc(square_in(borders["GM0307"])),
        headers=headers("utrecht", **{"If-Match": tag}),
    )
    body = refused(moved, 403)
    assert "outside GM0344" in body["detail"] and outside_ha(body) > 0.3
    assert table_counts(demo_engine) == before
    assert client.get(f"{RES}/{fid}", headers=auth("utrecht")).headers["etag"] == tag


def test_a_reservering_across_the_border_is_refused_with_the_area_outside(
    client, demo_engine, borders
):
    utrecht = borders["GM0344"]
    corner = shapely.Point(
        utrecht.exterior.coords[0]
        if utrecht.geom_type == "Polygon"
        else utrecht.geoms[0].exterior.coords[0]
    )
    straddling = corner.buffer(100, quad_segs=4)
    expected = straddling.difference(utrecht).area / 10_000
    assert 0.05 < expected < straddling.area / 10_000 - 0.05  # it really straddles
    body = refused(post(client, "utrecht", doc(straddling)), 403)
    assert outside_ha(body) == pytest.approx(expected, rel=0.02, abs=0.005)
    assert "% of its area" in body["detail"]
    # the province may place across borders
    assert post(client, "provincie", doc(straddling)).status_code == 201


def test_the_tolerance_allows_a_metre_over_the_border(client, borders):
    utrecht = borders["GM0344"]
    assert post(client, "utrecht", doc(utrecht.buffer(0.5, quad_segs=1))).status_code == 201
    body = refused(post(client, "utrecht", doc(utrecht.buffer(5, quad_segs=1))), 403)
    assert "tolerance 1 m" in body["detail"]
    assert outside_ha(body) == pytest.approx(utrecht.length * 5 / 10_000, rel=0.1)


@pytest.mark.parametrize("role", ["utrecht", "provincie", "admin"])
def test_a_gemeente_that_does_not_exist_is_refused_for_everyone(client, demo_engine, borders, role):
    before = table_counts(demo_engine)
    body = refused(post(client, role, doc(square_in(borders["GM0344"]), gemeente="GM9999")), 422)
    assert "GM9999" in body["detail"] and body["errors"][0]["field"] == "gemeente"
    assert table_counts(demo_engine) == before


def test_restoring_a_state_outside_the_gemeente_is_refused(client, demo_engine, borders):
    inside, elsewhere = square_in(borders["GM0344"]), square_in(borders["GM0307"])
    fid = post(client, "provincie", doc(inside)).json()["id"]

    def put(geometry):
        tag = client.get(f"{RES}/{fid}", headers=auth("provincie")).headers["etag"]
        r = client.put(
            f"{RES}/{fid}",
            params=RD,
            json=doc(geometry),
            headers=headers("provincie", **{"If-Match": tag}),
        )
        assert r.status_code == 200, r.text
        return r.json()["version"]

    across = put(elsewhere)  # the province placed it in Amersfoort (still GM0344's)
    put(inside)
    tag = client.get(f"{RES}/{fid}", headers=auth("utrecht")).headers["etag"]
    before = table_counts(demo_engine)
    resp = client.post(
        f"{RES}/{fid}/restore?version={across}", headers=headers("utrecht", **{"If-Match": tag})
    )
    assert "outside GM0344" in refused(resp, 403)["detail"]
    assert table_counts(demo_engine) == before
    resp = client.post(
        f"{RES}/{fid}/restore?version={across}", headers=headers("provincie", **{"If-Match": tag})
    )
    assert resp.status_code == 200, resp.text


def test_without_the_gemeenten_layer_gemeente_codes_cannot_be_checked(demo_engine, borders):
    app = create_app(
        demo_engine,
        web=web_settings(),
        auth=AuthSettings(_env_file=None, gemeenten_layer="geen-gemeenten"),
        planning=PlanningSettings(_env_file=None),
    )
    before = table_counts(demo_engine)
    with TestClient(app) as c:
        body = refused(post(c, "provincie", doc(square_in(borders["GM0344"]))), 409)
    assert "geen-gemeenten" in body["detail"] and "RUIMTE_AUTH_GEMEENTEN_LAYER" in body["detail"]
    assert table_counts(demo_engine) == before
