"""The layers API against real PostGIS with the demo data."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import shapely
from sqlalchemy import text

from layers.store import read_features
from spatial.crs import RD_NEW, WGS84, reproject
from tests.app.conftest import TOKEN
from tests.helpers import table_counts

RD_URI = "http://www.opengis.net/def/crs/EPSG/0/28992"
CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def problem(resp, status):
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert body["status"] == status and body["detail"]
    return body


def test_health_and_ready(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "reachable"


def test_layer_list_and_metadata(client):
    names = {lyr["name"] for lyr in client.get("/api/layers").json()["layers"]}
    assert {"gemeenten", "bedrijventerreinen", "reserveringen", "vestigingen"} <= names
    meta = client.get("/api/layers/bedrijventerreinen").json()
    labels = {f["name"]: f["label"] for f in meta["fields"]}
    assert labels["max_milieucategorie"] == "Maximale milieucategorie"
    assert meta["provenance"]["synthetic"] is True
    assert meta["crs"] == "EPSG:28992"


def test_features_default_crs84(client):
    resp = client.get("/api/layers/gemeenten/features?limit=30")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/geo+json"
    assert resp.headers["content-crs"] == f"<{CRS84_URI}>"
    fc = resp.json()
    assert fc["numberReturned"] == 26 and len(fc["features"]) == 26
    xy = np.array(
        [
            c
            for f in fc["features"]
            for c in shapely.get_coordinates(shapely.geometry.shape(f["geometry"]))
        ]
    )
    assert (xy[:, 0] > 4.7).all() and (xy[:, 0] < 5.7).all()
    assert (xy[:, 1] > 51.8).all() and (xy[:, 1] < 52.4).all()


def test_bbox_in_rd_returns_rd_and_matches_an_independent_selection(client, demo_engine):
    bbox = (130_000.0, 450_000.0, 140_000.0, 460_000.0)
    url = (
        "/api/layers/gemeenten/features?bbox="
        + ",".join(f"{v:.0f}" for v in bbox)
        + f"&bbox-crs={RD_URI}&crs={RD_URI}&limit=100"
    )
    resp = client.get(url)
    assert resp.headers["content-crs"] == f"<{RD_URI}>"
    got = {f["properties"]["statcode"] for f in resp.json()["features"]}
    with demo_engine.connect() as conn:
        ff = read_features(conn, "gemeenten")
    box = shapely.box(*bbox)
    expected = {
        s
        for s, g in zip(ff.properties["statcode"], ff.geometries, strict=True)
        if g.intersects(box)
    }
    assert got == expected and len(got) >= 2
    x, y = shapely.get_coordinates(shapely.geometry.shape(resp.json()["features"][0]["geometry"]))[
        0
    ]
    assert 100_000 < x < 200_000 and 400_000 < y < 500_000


def test_crs84_bbox_and_coordinates_agree_with_rd(client):
    rd = client.get(f"/api/layers/bedrijventerreinen/features?crs={RD_URI}&limit=1").json()[
        "features"
    ][0]
    ll = client.get(f"/api/layers/bedrijventerreinen/features/{rd['id']}").json()
    a = shapely.geometry.shape(rd["geometry"])
    b = reproject(np.array([shapely.geometry.shape(ll["geometry"])]), WGS84, RD_NEW)[0]
    assert shapely.hausdorff_distance(a, b) < 0.05  # 7 decimals of a degree: about 1 cm


def test_etrs89_is_lat_lon(client):
    resp = client.get(
        "/api/layers/gemeenten/features?crs=http://www.opengis.net/def/crs/EPSG/0/4258&limit=1"
    )
    lat, lon = shapely.get_coordinates(
        shapely.geometry.shape(resp.json()["features"][0]["geometry"])
    )[0]
    assert 51.8 < lat < 52.4 and 4.7 < lon < 5.7


def test_gemeente_and_property_filters(client, demo_engine):
    with demo_engine.connect() as conn:
        n_hard = conn.execute(
            text(
                "SELECT count(*) FROM features f JOIN layers l ON l.id = f.layer_id WHERE l.name = 'reserveringen' "
                "AND f.version_to IS NULL AND f.gemeente = 'GM0344' AND f.properties->>'status' = 'hard'"
            )
        ).scalar_one()
    fc = client.get(
        "/api/layers/reserveringen/features?gemeente=GM0344&status=hard&limit=500"
    ).json()
    assert fc["numberReturned"] == n_hard
    assert all(
        f["properties"]["status"] == "hard" and f["properties"]["gemeente"] == "GM0344"
        for f in fc["features"]
    )
    water = client.get(
        "/api/layers/bedrijventerreinen/features?ontsluiting_water=true&limit=1000"
    ).json()
    assert water["numberReturned"] > 0 and all(
        f["properties"]["ontsluiting_water"] for f in water["features"]
    )
    problem(client.get("/api/layers/reserveringen/features?kleur=rood"), 400)


def test_paging(client):
    first = client.get("/api/layers/vestigingen/features?limit=100").json()
    nxt = next(link["href"] for link in first["links"] if link["rel"] == "next")
    second = client.get(nxt).json()
    ids1 = [f["id"] for f in first["features"]]
    ids2 = [f["id"] for f in second["features"]]
    assert len(ids1) == len(ids2) == 100 and max(ids1) < min(ids2)
    problem(client.get("/api/layers/vestigingen/features?limit=100000"), 400)
    problem(client.get("/api/layers/vestigingen/features?limit=0"), 422)


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/layers/nope", 404),
        ("/api/layers/nope/features", 404),
        ("/api/layers/gemeenten/features?crs=EPSG:3857", 400),
        ("/api/layers/gemeenten/features?bbox=1,2,3", 400),
        ("/api/layers/gemeenten/features?bbox=5,52,4,51", 400),
        ("/api/layers/gemeenten/features?bbox=130000,450000,140000,460000", 400),
        ("/api/layers/gemeenten/features/999999999", 404),
        ("/api/layers/gemeenten/download?format=xlsx", 400),
    ],
)
def test_bad_reads_get_problem_json(client, url, status):
    problem(client.get(url), status)


def _feature(**props):
    base = {
        "naam": "Testreservering",
        "gemeente": "GM0344",
        "doel": "reparatiehub",
        "status": "zacht",
        "geldig_van": "2026-01-01",
        "geldig_tot": "2030-12-31",
    }
    base.update(props)
    ring = [[5.10, 52.08], [5.102, 52.08], [5.102, 52.081], [5.10, 52.081], [5.10, 52.08]]
    return {
        "type": "Feature",
        "properties": base,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


@pytest.mark.parametrize(
    ("body", "headers", "status", "needle"),
    [
        (_feature(), {}, 401, "bearer token"),
        (_feature(), {"Authorization": "Bearer wrong-token-xxxxxxxxxxxx"}, 401, "not valid"),
        (
            {
                **_feature(),
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[5.10, 52.08], [5.11, 52.09], [5.11, 52.08], [5.10, 52.09], [5.10, 52.08]]
                    ],
                },
            },
            AUTH,
            422,
            "Self-intersection",
        ),
        (
            {**_feature(), "geometry": {"type": "Point", "coordinates": [4.30, 51.90]}},
            AUTH,
            422,
            "outside the work area",
        ),
        (
            {**_feature(), "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0]]]}},
            AUTH,
            422,
            "geometry",
        ),
        (_feature(status="misschien"), AUTH, 422, "status"),
        (_feature(kleur="rood"), AUTH, 422, "kleur"),
        ({"type": "FeatureCollection", "features": []}, AUTH, 422, "GeoJSON Feature"),
    ],
)
def test_bad_writes_are_refused_and_write_nothing(
    client, demo_engine, body, headers, status, needle
):
    before = table_counts(demo_engine)
    resp = client.post("/api/layers/reserveringen/features", json=body, headers=headers)
    body = problem(resp, status)
    assert needle in json.dumps(body)
    assert table_counts(demo_engine) == before
    if status == 401:
        assert resp.headers["www-authenticate"].startswith("Bearer")


def test_media_type_size_and_json_errors(client, demo_engine):
    before = table_counts(demo_engine)
    url = "/api/layers/reserveringen/features"
    problem(
        client.post(
            url, content=json.dumps(_feature()), headers={**AUTH, "Content-Type": "text/plain"}
        ),
        415,
    )
    problem(
        client.post(
            url, content=b"{not json", headers={**AUTH, "Content-Type": "application/json"}
        ),
        400,
    )
    big = json.dumps(
        {**_feature(), "properties": {**_feature()["properties"], "doel": "x" * 60_000_000}}
    )
    problem(
        client.post(url, content=big, headers={**AUTH, "Content-Type": "application/json"}), 413
    )
    assert table_counts(demo_engine) == before


def test_create_update_delete_with_versions(client, demo_engine):
    url = "/api/layers/reserveringen/features"
    before = client.get("/api/layers/reserveringen").json()["version"]
    resp = client.post(url, json=_feature(), headers=AUTH)
    assert resp.status_code == 201, resp.text
    fid = resp.json()["id"]
    assert resp.headers["location"].endswith(f"/api/layers/reserveringen/features/{fid}")
    got = client.get(f"{url}/{fid}?crs={RD_URI}").json()
    assert got["properties"]["status"] == "zacht"
    area = shapely.geometry.shape(got["geometry"]).area
    expected = reproject(np.array([shapely.geometry.shape(_feature()["geometry"])]), WGS84, RD_NEW)[
        0
    ].area
    assert area == pytest.approx(expected, rel=1e-6)

    updated = _feature(status="hard", planreferentie="Omgevingsplan Utrecht")
    tag = client.get(f"{url}/{fid}").headers["etag"]
    problem(client.put(f"{url}/{fid}", json=updated, headers=AUTH), 428)
    resp = client.put(f"{url}/{fid}", json=updated, headers={**AUTH, "If-Match": tag})
    assert resp.status_code == 200 and resp.json()["version"] == before + 2
    assert client.get(f"{url}/{fid}").json()["properties"]["status"] == "hard"
    with demo_engine.connect() as conn:
        old = read_features(conn, "reserveringen", version=before + 1)
    assert old.properties.loc[old.fids == fid, "status"].item() == "zacht"

    problem(
        client.delete(f"{url}/{fid}", headers={**AUTH, "If-Match": tag}), 412
    )  # stale: it was updated
    tag = client.get(f"{url}/{fid}").headers["etag"]
    assert client.delete(f"{url}/{fid}", headers={**AUTH, "If-Match": tag}).status_code == 204
    problem(client.get(f"{url}/{fid}"), 404)
    problem(client.delete(f"{url}/{fid}", headers={**AUTH, "If-Match": tag}), 404)
    problem(client.put(f"{url}/999999999", json=updated, headers={**AUTH, "If-Match": tag}), 404)


def test_rd_input_via_content_crs(client):
    feat = _feature()
    feat["geometry"] = {
        "type": "Polygon",
        "coordinates": [[[136000, 456000], [136100, 456000], [136100, 456100], [136000, 456000]]],
    }
    resp = client.post(
        "/api/layers/reserveringen/features",
        json=feat,
        headers={**AUTH, "Content-Crs": f"<{RD_URI}>"},
    )
    assert resp.status_code == 201, resp.text
    fid = resp.json()["id"]
    got = client.get(f"/api/layers/reserveringen/features/{fid}?crs={RD_URI}").json()
    assert shapely.geometry.shape(got["geometry"]).area == pytest.approx(5000.0)
    client.delete(f"/api/layers/reserveringen/features/{fid}", headers={**AUTH, "If-Match": "*"})


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp", "csv", "fgb"])
def test_downloads_open_in_gdal(client, tmp_path, fmt):
    resp = client.get(f"/api/layers/gemeenten/download?format={fmt}")
    assert resp.status_code == 200
    path = tmp_path / f"gemeenten.{'zip' if fmt == 'shp' else fmt}"
    path.write_bytes(resp.content)
    target = f"/vsizip/{path}/gemeenten.shp" if fmt == "shp" else str(path)
    info = subprocess.run(
        ["ogrinfo", "-so", "-al", target], capture_output=True, text=True, check=True
    )
    assert "Feature Count: 26" in info.stdout
    assert "ERROR" not in info.stderr
