"""CORS (RUIMTE_WEB_CORS_ORIGINS): off by default, configured origins only, preflight answered."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.settings import WebSettings
from tests.app.conftest import make_app

MAP_ORIGIN = "http://kaart.example.nl:8081"
PREFLIGHT = {
    "Origin": MAP_ORIGIN,
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "accept",
}


@pytest.fixture(scope="module")
def cors_client(ogc_db):
    with TestClient(make_app(ogc_db.engine, cors_origins=(MAP_ORIGIN,))) as c:
        yield c


def test_cors_is_off_by_default(ogc_client):
    resp = ogc_client.get("/ogc/collections", headers={"Origin": MAP_ORIGIN})
    assert resp.status_code == 200 and "access-control-allow-origin" not in resp.headers
    pre = ogc_client.options("/ogc/collections", headers=PREFLIGHT)
    assert pre.status_code == 405 and "access-control-allow-origin" not in pre.headers


@pytest.mark.parametrize(
    "path",
    ["/ogc/collections", "/ogc/collections/reserveringen/items?limit=1", "/tiles/gemeenten.json"],
)
def test_a_configured_origin_may_read_and_its_preflight_is_answered(cors_client, path):
    resp = cors_client.get(path, headers={"Origin": MAP_ORIGIN})
    assert resp.status_code == 200
    assert resp.headers["access-control-allow-origin"] == MAP_ORIGIN
    assert "Content-Crs" in resp.headers.get("access-control-expose-headers", "")
    pre = cors_client.options(path, headers=PREFLIGHT)
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == MAP_ORIGIN
    assert "GET" in pre.headers["access-control-allow-methods"]


def test_another_origin_gets_no_cors_headers(cors_client):
    other = "http://elders.example.org"
    resp = cors_client.get("/ogc/collections", headers={"Origin": other})
    assert "access-control-allow-origin" not in resp.headers
    pre = cors_client.options("/ogc/collections", headers={**PREFLIGHT, "Origin": other})
    assert pre.status_code == 400 and "access-control-allow-origin" not in pre.headers


def test_errors_carry_cors_headers_too(cors_client):
    resp = cors_client.get("/ogc/collections/nope", headers={"Origin": MAP_ORIGIN})
    assert resp.status_code == 404 and resp.headers["access-control-allow-origin"] == MAP_ORIGIN


@pytest.mark.parametrize("bad", ["kaart.example.nl", "http://x/path", "ftp://x", "http://x?q=1"])
def test_bad_origins_are_refused(bad):
    with pytest.raises(ValueError, match="CORS_ORIGINS"):
        WebSettings(_env_file=None, cors_origins=(bad,))


def test_origins_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("RUIMTE_WEB_CORS_ORIGINS", f'["{MAP_ORIGIN}"]')
    assert WebSettings(_env_file=None).cors_origins == (MAP_ORIGIN,)
