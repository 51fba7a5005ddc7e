"""The warm tile path (:mod:`app.warm_tiles`, issue 14): a cached public tile is answered before
routing, yet never stale and never to someone it is not for.

Two apps on one database stand for two worker processes: what one changes, the other must see
at its next request, from its fast path too. Which requests reached the route is counted by
wrapping :func:`app.routes.tiles.tile_response`.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient

import app.routes.tiles as tile_routes
from app.warm_tiles import StateChecks
from layers.access import PUBLIC
from layers.collections import forget_layer
from tests.app.conftest import auth, make_app
from tests.app.test_tile_counts import tile_of
from tests.helpers import RESERVERING_FEATURE

Z = 15
X, Y = tile_of(5.101, 52.0805, Z)
URL = f"/tiles/reserveringen/{Z}/{X}/{Y}.mvt"
#: Headers that differ between two answers of the same tile by nature.
VOLATILE = {"date", "ruimte-tile-cache"}


@pytest.fixture
def routed(monkeypatch):
    """How many tile requests reached the route (the rest were answered by the fast path)."""
    calls: list[str] = []
    inner = tile_routes.tile_response

    def counting(request, *args, **kwargs):
        calls.append(request.url.path)
        return inner(request, *args, **kwargs)

    monkeypatch.setattr(tile_routes, "tile_response", counting)
    return calls


def ids(resp) -> set[int]:
    layer = mapbox_vector_tile.decode(resp.content).get("reserveringen", {"features": []})
    return {f["id"] for f in layer["features"]}


def stable(resp) -> dict[str, str]:
    return {k: v for k, v in resp.headers.items() if k not in VOLATILE}


def test_a_warm_public_tile_skips_the_route_with_the_same_answer(demo_engine, routed):
    forget_layer("reserveringen", PUBLIC)  # not looked up yet: the first tile takes the route
    with TestClient(make_app(demo_engine)) as a:
        made = a.get(URL)
        assert made.status_code == 200 and made.headers["Ruimte-Tile-Cache"] == "miss"
        assert routed == [URL]
        warm = a.get(URL)
        assert warm.status_code == 200 and warm.headers["Ruimte-Tile-Cache"] == "hit"
        assert routed == [URL], "the warm tile went through the route"
        assert warm.content == made.content
        assert stable(warm) == stable(made)
        assert warm.headers["X-Content-Type-Options"] == "nosniff"
        assert warm.headers["Cache-Control"].startswith("public")
        # A client that revalidates gets 304 from the fast path; HEAD gets the headers only.
        again = a.get(URL, headers={"If-None-Match": warm.headers["ETag"]})
        assert again.status_code == 304 and again.headers["ETag"] == warm.headers["ETag"]
        assert again.content == b""
        head = a.head(URL)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["Content-Length"] == str(len(made.content))
        assert routed == [URL]
        # Filters, credentials and unknown matrix sets go the usual way.
        assert a.get(URL + "?status=zacht").status_code == 200
        assert a.get(URL, headers=auth("lezer")).status_code == 200
        assert a.get(f"/tiles/reserveringen/NoSuchQuad/{Z}/{X}/{Y}.mvt").status_code == 404
        assert len(routed) == 3  # (the unknown matrix set is refused before tile_response)


def test_a_cold_public_tile_of_a_known_layer_skips_the_route_with_the_same_answer(
    demo_engine, routed
):
    """With the cache off every tile is made; once the layer is known, the fast path makes it
    (the same bytes, counts and headers as the route), and what it cannot answer goes on."""
    forget_layer("reserveringen", PUBLIC)
    other = f"/tiles/reserveringen/{Z}/{X + 1}/{Y}.mvt"
    with TestClient(make_app(demo_engine, tile_cache_mb=0)) as off:
        by_route = off.get(URL)
        assert by_route.status_code == 200 and routed == [URL]
        made = off.get(URL)
        assert made.status_code == 200 and made.headers["Ruimte-Tile-Cache"] == "miss"
        assert routed == [URL], "the cold tile of a known layer went through the route"
        assert made.content == by_route.content and stable(made) == stable(by_route)
        assert off.get(other).status_code == 200 and routed == [URL]
        # A revalidation and a tile outside the matrix set are answered by the route.
        again = off.get(URL, headers={"If-None-Match": made.headers["ETag"]})
        assert again.status_code == 304
        assert off.get("/tiles/reserveringen/3/8/0.mvt").status_code == 400
        assert routed == [URL, URL, "/tiles/reserveringen/3/8/0.mvt"]


def test_an_edit_through_another_process_is_seen_by_the_fast_path(demo_engine, routed):
    with TestClient(make_app(demo_engine)) as a, TestClient(make_app(demo_engine)) as b:
        before = ids(a.get(URL))
        warm = a.get(URL)
        assert warm.headers["Ruimte-Tile-Cache"] == "hit"
        made = b.post(
            "/api/layers/reserveringen/features",
            json=RESERVERING_FEATURE,
            headers=auth("provincie"),
        )
        assert made.status_code == 201, made.text
        fid = made.json()["id"]
        try:
            after = a.get(URL)
            assert after.status_code == 200 and after.headers["Ruimte-Tile-Cache"] == "miss"
            assert ids(after) == before | {fid}
            assert a.get(URL).headers["Ruimte-Tile-Cache"] == "hit"
            # The old ETag no longer matches: a revalidating client gets the new tile.
            stale = a.get(URL, headers={"If-None-Match": warm.headers["ETag"]})
            assert stale.status_code == 200 and fid in ids(stale)
            assert stale.headers["ETag"] != warm.headers["ETag"]
        finally:
            gone = b.delete(
                f"/api/layers/reserveringen/features/{fid}",
                headers=auth("provincie") | {"If-Match": made.headers["ETag"]},
            )
            assert gone.status_code in (200, 204), gone.text
        assert ids(a.get(URL)) == before


def test_an_unpublished_layer_is_gone_from_the_fast_path_at_once(demo_engine, routed):
    with TestClient(make_app(demo_engine)) as a, TestClient(make_app(demo_engine)) as b:
        assert a.get(URL).status_code == 200
        warm = a.get(URL)
        assert warm.headers["Ruimte-Tile-Cache"] == "hit"
        assert (
            b.patch(
                "/api/layers/reserveringen", json={"published": False}, headers=auth("provincie")
            ).status_code
            == 200
        )
        try:
            for conditional in ({}, {"If-None-Match": warm.headers["ETag"]}):
                hidden = a.get(URL, headers=conditional)
                assert hidden.status_code == 404, hidden.text
                assert hidden.headers["content-type"].startswith("application/problem+json")
            assert a.head(URL).status_code == 404
            assert a.get(URL, headers=auth("provincie")).status_code == 200
            assert a.get(URL, headers=auth("lezer")).status_code == 404
        finally:
            assert (
                b.patch(
                    "/api/layers/reserveringen", json={"published": True}, headers=auth("provincie")
                ).status_code
                == 200
            )
        back = a.get(URL)
        assert back.status_code == 200 and ids(back) == ids(warm)


def test_a_draft_stays_out_of_the_public_warm_tile(demo_engine, routed):
    draft = {**RESERVERING_FEATURE, "draft": True}
    with TestClient(make_app(demo_engine)) as a:
        public = ids(a.get(URL))
        assert a.get(URL).headers["Ruimte-Tile-Cache"] == "hit"
        made = a.post("/api/layers/reserveringen/features", json=draft, headers=auth("utrecht"))
        assert made.status_code == 201, made.text
        fid = made.json()["id"]
        try:
            assert fid in ids(a.get(URL, headers=auth("utrecht")))
            assert fid in ids(a.get(URL, headers=auth("utrecht")))  # its own cached tile
            for _ in range(2):  # made anew for the public, then their warm tile
                resp = a.get(URL)
                assert resp.status_code == 200 and fid not in ids(resp)
            assert ids(a.get(URL)) == public
            assert fid not in ids(a.get(URL, headers=auth("amersfoort")))
        finally:
            gone = a.delete(
                f"/api/layers/reserveringen/features/{fid}",
                headers=auth("utrecht") | {"If-Match": made.headers["ETag"]},
            )
            assert gone.status_code in (200, 204), gone.text


class GatedQuery:
    """A state query that records the ids of each call and waits, call by call, until the
    test lets it answer: which tiles shared which check, and when each check started."""

    def __init__(self):
        self.calls: list[frozenset[int]] = []
        self.gates: list[threading.Event] = []
        self.fail: Exception | None = None

    def __call__(self, ids: frozenset[int]) -> dict[int, tuple[int, str]]:
        gate = threading.Event()
        self.gates.append(gate)
        self.calls.append(ids)
        gate.wait(10)
        if self.fail is not None:
            raise self.fail
        return {i: (len(self.calls), "t") for i in ids if i > 0}


def _run(scenario) -> None:  # noqa: ANN001 - a coroutine function
    """Run ``scenario`` on an event loop of its own thread (another test's loop, such as
    Playwright's, may be running in this one)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result()


async def _until(condition) -> None:  # noqa: ANN001 - a callable
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("timed out")


def test_warm_tiles_waiting_together_share_a_check_that_started_after_they_came():
    """A tile that arrives while a check runs waits for the next check (which may show an edit
    the running one started too early to see), and shares it with the others that waited."""
    query = GatedQuery()
    checks = StateChecks(query)

    async def scenario():
        first = asyncio.create_task(checks.state(1))
        await _until(lambda: len(query.calls) == 1)
        later = [asyncio.create_task(checks.state(i)) for i in (1, 2, -3)]
        await asyncio.sleep(0.02)
        assert len(query.calls) == 1, "a check started while the first one ran"
        query.gates[0].set()
        assert await first == (1, "t")
        await _until(lambda: len(query.calls) == 2)
        assert query.calls == [frozenset({1}), frozenset({1, 2, -3})]
        query.gates[1].set()
        # The second check's answer, a gone (or hidden) layer as None.
        assert [await t for t in later] == [(2, "t"), (2, "t"), None]

    _run(scenario)


def test_a_failed_check_fails_its_waiters_only_and_a_gone_waiter_cancels_nothing():
    query = GatedQuery()
    checks = StateChecks(query)

    async def scenario():
        query.fail = OSError("database gone")
        waiting = [asyncio.create_task(checks.state(1)) for _ in range(3)]
        await _until(lambda: len(query.calls) == 1)
        waiting[0].cancel()  # its client went away
        query.gates[0].set()
        results = await asyncio.gather(*waiting, return_exceptions=True)
        assert isinstance(results[0], asyncio.CancelledError)
        assert all(isinstance(r, OSError) for r in results[1:]), results
        query.fail = None
        again = asyncio.create_task(checks.state(1))
        await _until(lambda: len(query.calls) == 2)
        query.gates[1].set()
        assert await again == (2, "t")

    _run(scenario)
