"""Operational safety: one session secret for several workers, links only to the public URL or
an allowed host, 414 for over-long URLs on a real uvicorn (414 / 431 from the server past its
bound on the request head), download limits per client, names
derived layers not editable, rate-limit messages with the real wait (all on the demo data;
reserved names and Z notes on import are in tests/layers/test_import_safety.py)."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from app.guards import RequestGuards
from app.ratelimit import retry_after_s
from tests.app.conftest import LiveServer, auth, make_app, web_settings
from tests.helpers import RESERVERING_FEATURE

RES = "/api/layers/reserveringen"
FEATURE = RESERVERING_FEATURE


# -- several workers need one session secret --------------------------------------------------


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_several_workers_refuse_to_start_without_a_session_secret(command, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUIMTE_")}
    env["DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/none"  # never reached
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", command, "--workers", "2", "--port", "8105"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,  # no .env file here
        timeout=60,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "RUIMTE_AUTH_SESSION_SECRET" in proc.stderr and "serving" not in proc.stdout
    assert "Traceback" not in proc.stderr


# -- Host, public URL and links ---------------------------------------------------------------


def test_a_forged_host_is_refused_and_never_echoed_into_links(client):
    evil = {"Host": "evil.example"}
    resp = client.get("/api/layers/gemeenten/features?limit=1", headers=evil)
    assert resp.status_code == 400
    assert resp.headers["content-type"] == "application/problem+json"
    assert "is not one this service answers to" in resp.json()["detail"]
    assert (
        client.post(f"{RES}/features", json=FEATURE, headers=auth("provincie") | evil).status_code
        == 400
    )
    # probes use addresses; they write no links
    assert client.get("/healthz", headers=evil).status_code == 200
    ok = client.get("/api/layers/gemeenten/features?limit=1").json()
    assert any(
        link["rel"] == "next" and link["href"].startswith("http://testserver/")
        for link in ok["links"]
    )


def test_links_and_location_use_the_public_url(demo_engine):
    public = "https://ruimte.example.nl/kaarten"
    with TestClient(make_app(demo_engine, public_url=public)) as c:
        forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
        page = c.get("/api/layers/gemeenten/features?limit=1", headers=forged)
        assert page.status_code == 200
        hrefs = [link["href"] for link in page.json()["links"]]
        assert hrefs and all(h.startswith(public + "/api/layers/gemeenten/features") for h in hrefs)
        made = c.post(f"{RES}/features", json=FEATURE, headers=auth("provincie") | forged)
        assert made.status_code == 201, made.text
        assert made.headers["location"].startswith(public + "/api/layers/reserveringen/features/")
        ogc = c.get("/ogc/collections/gemeenten/items?limit=1", headers=forged).json()
        assert all("evil" not in link["href"] for link in ogc["links"])
        assert any(link["href"].startswith(public + "/ogc/") for link in ogc["links"])


@pytest.mark.parametrize(
    "bad",
    [
        {"public_url": "ftp://ruimte.example.nl"},
        {"public_url": "https://ruimte.example.nl/?x=1"},
        {"allowed_hosts": ()},
        {"max_url_bytes": 10},
        {"max_url_bytes": 70_000},
        {"downloads_per_client": 3, "downloads_total": 2},
    ],
)
def test_bad_web_settings_are_refused(bad):
    with pytest.raises(ValueError, match="RUIMTE_WEB_"):
        web_settings(**bad)


# -- over-long URLs: 414 from a real uvicorn ------------------------------------------------------


def _get(port: int, target: str) -> tuple[int, str, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", target)
        resp = conn.getresponse()
        return resp.status, resp.read().decode(), dict(resp.getheaders())
    finally:
        conn.close()


def test_over_long_urls_get_414_not_a_reset_connection(demo_engine):
    with LiveServer(make_app(demo_engine)) as server:
        # Up to the longest URL the HTTP parser takes, the app's guard answers (its limit);
        # beyond, the server (app.http_protocol), in the same form.
        for length, limit in ((9_000, 8192), (60_000, 8192), (200_000, 65535), (900_000, 65535)):
            status, body, headers = _get(server.port, "/api/layers?x=" + "a" * length)
            assert status == 414, (length, status, body[:200])
            assert headers["content-type"] == "application/problem+json"
            assert f"over the limit of {limit}" in json.loads(body)["detail"]
        status, _, _ = _get(server.port, "/api/layers?x=" + "a" * 4_000)
        assert status == 200


def _exchange(port: int, requests: list[bytes]) -> list[bytes]:
    """Send the requests one after another on one connection; the raw answer to each (an
    answer read whole by its Content-Length, or what came before the server closed)."""
    answers = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        stream = sock.makefile("rb")
        for request in requests:
            try:
                sock.sendall(request)
            except (BrokenPipeError, ConnectionResetError):
                pass  # refused part-way: the answer was sent before the close
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                line = stream.readline()
                if not line:
                    break
                head += line
            length = re.search(rb"(?im)^content-length: *([0-9]+)", head)
            answers.append(head + (stream.read(int(length[1])) if length else b""))
    return answers


def test_a_request_head_past_the_servers_bound_is_refused_by_the_server(demo_engine):
    """httptools (app.http_protocol) keeps h11's bound on the request head: a URL or headers
    beyond it get 414 / 431 from the server and a closed connection, and never reach the app;
    a body does not count, nor do the heads of earlier requests on the same connection."""
    with LiveServer(make_app(demo_engine)) as server:
        config = server.server.config
        assert config.http == "app.http_protocol:BoundedHttpTools"
        bound = config.h11_max_incomplete_event_size
        assert bound >= 1 << 20
        url = b"GET /api/layers?x=" + b"a" * (bound + 10) + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        [answer] = _exchange(server.port, [url])
        assert answer.startswith(b"HTTP/1.1 414 "), answer[:200]
        assert b"the URL is over the limit" in answer
        header = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"b" * (bound + 10)
        [answer] = _exchange(server.port, [header + b"\r\n\r\n"])
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
        many = b"".join(b"X-H%d: %s\r\n" % (i, b"c" * 1000) for i in range(bound // 1000 + 5))
        [answer] = _exchange(
            server.port, [b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + many + b"\r\n"]
        )
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
        # Three heads of 60 % of the bound on one connection: each is counted on its own.
        big = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"d" * (bound * 3 // 5)
        answers = _exchange(server.port, [big + b"\r\n\r\n"] * 3)
        assert [a[:15] for a in answers] == [b"HTTP/1.1 200 OK"] * 3
        # A body past the bound reaches the app, which judges it (here: not a feature).
        body = json.dumps({"x": "e" * (bound + 10)}).encode()
        post = (
            b"POST /api/layers/reserveringen/features HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nAuthorization: "
            + auth("provincie")["Authorization"].encode()
            + b"\r\nContent-Length: %d\r\n\r\n" % len(body)
            + body
        )
        [answer] = _exchange(server.port, [post])
        assert answer.startswith(b"HTTP/1.1 422 "), answer[:200]
        assert b"application/problem+json" in answer


# -- download concurrency -------------------------------------------------------------------------


def test_downloads_are_limited_per_client_and_in_total():
    """The guard in front of a download that is held open until released."""
    release = asyncio.Event()

    async def slow_download(scope, receive, send):
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"layer"})

    guards = RequestGuards(slow_download, web_settings(downloads_per_client=2, downloads_total=3))

    def scope(client: str, path: str = "/api/layers/landgebruik/download") -> dict:
        return {
            "type": "http",
            "method": "GET",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"format=gpkg",
            "headers": [(b"host", b"testserver")],
            "client": (client, 50000),
            "scheme": "http",
        }

    async def request(client: str, path: str = "/api/layers/landgebruik/download"):
        sent: list[dict] = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        await guards(scope(client, path), receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return start["status"], dict((k.decode(), v.decode()) for k, v in start["headers"]), body

    async def scenario():
        held = [asyncio.create_task(request("10.0.0.1")) for _ in range(2)]
        await asyncio.sleep(0)
        third = await request("10.0.0.1")
        other = asyncio.create_task(request("10.0.0.2"))
        await asyncio.sleep(0)
        busy = await request("10.0.0.3", "/api/qgis/project.zip")
        release.set()
        done = await asyncio.gather(*held, other)
        after = await request("10.0.0.1")
        return third, busy, done, after

    # In a thread of its own: another test (Playwright's sync API) may leave a loop running here.
    with ThreadPoolExecutor(max_workers=1) as pool:
        third, busy, done, after = pool.submit(asyncio.run, scenario()).result()
    assert third[0] == 429 and int(third[1]["retry-after"]) >= 1
    assert "at most 2 downloads at a time per client" in json.loads(third[2])["detail"]
    assert busy[0] == 503 and int(busy[1]["retry-after"]) >= 1
    assert [d[0] for d in done] == [200, 200, 200] and after[0] == 200
    assert not guards.running


def test_a_real_download_passes_the_guard(client):
    for _ in range(3):  # one after another: the slots are given back
        assert client.get(f"{RES}/download?format=csv").status_code == 200


# -- derived layers ------------------------------------------------------------------------------


def test_derived_layers_cannot_be_edited_through_the_api(client):
    from layers.store import list_layers

    with client.app.state.engine.connect() as conn:
        derived = [i.name for i in list_layers(conn) if i.name.startswith("run-")]
    if not derived:
        made = client.post(
            "/api/scenarios/pbl-2023-bedrijventerreinen-40/runs", headers=auth("provincie")
        )
        assert made.status_code in (200, 201), made.text
        with client.app.state.engine.connect() as conn:
            derived = [i.name for i in list_layers(conn) if i.name.startswith("run-")]
    name = next(n for n in derived if n.endswith("-allocatie"))
    fid = client.get(f"/api/layers/{name}/features?limit=1").json()["features"][0]["id"]
    tag = client.get(f"/api/layers/{name}/features/{fid}", headers=auth("admin")).headers["etag"]
    resp = client.delete(
        f"/api/layers/{name}/features/{fid}", headers=auth("admin") | {"If-Match": tag}
    )
    assert resp.status_code == 409, resp.text
    assert "derived by a scenario run" in resp.json()["detail"]
    assert client.get(f"/api/layers/{name}/features/{fid}").status_code == 200


# -- rate-limit messages --------------------------------------------------------------------------


def test_rate_limit_states_the_real_wait(demo_engine):
    assert retry_after_s(0.01) == 1 and retry_after_s(1.2) == 2
    with TestClient(make_app(demo_engine)) as c:
        c.app.state.rate_limiter.capacity = 1.0
        c.app.state.rate_limiter.per_second = 1 / 7.5  # one write per 7.5 s
        codes = [
            c.post(f"{RES}/features", json=FEATURE, headers=auth("amersfoort")) for _ in range(2)
        ]
    refused = codes[1]
    assert refused.status_code == 429
    wait = int(refused.headers["retry-after"])
    assert 1 <= wait <= 8
    assert f"try again in {wait} s" in refused.json()["detail"]
    assert "in 0 s" not in refused.json()["detail"]
