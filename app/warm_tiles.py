"""The warm tile path (issue 14): a public tile answered before routing, cached or made.

A tile request goes through FastAPI's routing (dozens of routes are tried), its dependencies
(engine, principal, viewer: each sync one a hop to the thread pool) and the route itself
(another hop): together most of what a cached tile cost. :class:`WarmTiles` sits just
outside the router, inside every other middleware (Host and URL guards, security headers,
CORS, HEAD), and answers the one case that needs none of that:

- ``GET /tiles/{collection}/{z}/{x}/{y}.mvt`` or ``/tiles/{collection}/{tms}/{z}/{x}/{y}.mvt``
  without a query string (no filters);
- no ``Authorization`` header and no session cookie: the viewer is the public;
- the layer as last looked up for the public (:func:`layers.collections.known_layer`) is
  known.

It then checks the layer's state in the database exactly as the route does
(:func:`layers.tiles.layer_states`: current version, ``updated_at`` and whether the public may
see it), so an edit or an unpublish made by any process is seen by the next request. The
check is shared (:class:`StateChecks`): every warm tile that arrives while a check is running
waits for the next one, which starts after it arrived, so the guarantee holds and under load
one small query and one hop to the thread pool serve many tiles instead of one each (the check
had been most of a warm tile's cost). That query runs on a pool of its own (:func:`check_engine`),
whose connections are checked as the app's are (:func:`app.database.replace_closed_connections`,
no round trip); a connection that fails anyway sends the request on to the route.

Only when that state is the one the tile was made at is the tile (or a 304 for a matching
``If-None-Match``) sent, with the same headers the route sends.

A tile that is not cached (or with the cache off) is made here as the route makes it
(:func:`layers.tiles.layer_tile_checked`: the tile and the layer's state in one round trip, on
the same pool), kept in the cache and sent: a cold tile then skips the routing, the
dependencies, the route's hop and its pool's ping too. A conditional request, a tile outside
the matrix set and a tile whose layer turned out to have changed go to the route.

In every other case, and on any error, the request goes on to the route unchanged, which
answers it as before (a made tile, a 404, a 400, a problem).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import datetime
from functools import partial

import anyio.to_thread
from sqlalchemy import Engine, create_engine
from starlette._utils import get_route_path
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.database import replace_closed_connections
from app.reads import read_connection
from app.routes.tiles import _cache_key, _headers, _tile_response
from app.session import COOKIE as SESSION_COOKIE
from layers.access import PUBLIC
from layers.collections import forget_layer, known_layer
from layers.errors import LayerError
from layers.kinds import load_kinds
from layers.query import FeatureQuery
from layers.store import LayerInfo
from layers.tiles import (
    TILE_MATRIX_SETS,
    WEB_MERCATOR_QUAD,
    TileMatrixSet,
    TileRequest,
    layer_states,
    layer_tile_checked,
)

TILE_PATH = re.compile(
    r"^/tiles/(?P<collection>[^/]+)/(?:(?P<tms>[^/]+)/)?"
    r"(?P<z>[0-9]{1,2})/(?P<x>[0-9]{1,9})/(?P<y>[0-9]{1,9})\.mvt$"
)
PUBLIC_QUERY = FeatureQuery(viewer=PUBLIC)
_SESSION = SESSION_COOKIE.encode() + b"="


class WarmTiles:
    """The ASGI middleware described in the module docstring."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a warm public tile; hand everything else on."""
        if scope["type"] == "http" and scope["method"] == "GET" and not scope["query_string"]:
            match = TILE_PATH.match(get_route_path(scope))
            if match is not None and _public(scope):
                response = await _warm_tile(scope, match)
                if response is not None:
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _public(scope: Scope) -> bool:
    """No credentials: no bearer token and no session cookie (those go the usual way)."""
    for name, value in scope["headers"]:
        if name == b"authorization" or (name == b"cookie" and _SESSION in value):
            return False
    return True


def check_engine(state) -> Engine:  # noqa: ANN001 - the app's State
    """The app's engine for the state check: the same connections (``creator``: URL and
    connect arguments such as ``statement_timeout``), in a pool of its own, its connections
    checked without a round trip (:func:`app.database.replace_closed_connections`). Made at
    the first warm tile, in the event loop (so once); disposed with the app."""
    engine = getattr(state, "check_engine", None)
    if engine is None:
        base: Engine = state.engine
        engine = create_engine(
            base.url,
            creator=base.pool._creator,  # noqa: SLF001 - the base pool's connect function
            # As many as the base pool keeps: an overflow connection is closed when it comes
            # back, and a new connection for every check would cost more than the check.
            pool_size=max(getattr(base.pool, "size", lambda: 5)(), 1),
            max_overflow=0,
            pool_timeout=2,
        )
        replace_closed_connections(engine)
        state.check_engine = engine
    return engine


def dispose_check_engine(state) -> None:  # noqa: ANN001 - the app's State
    """Close the state check's connections (app shutdown)."""
    state.state_checks = None  # its batches belong to the event loop that stops
    engine = getattr(state, "check_engine", None)
    if engine is not None:
        engine.dispose()
        state.check_engine = None


def _current_states(engine: Engine, ids: frozenset[int]) -> dict[int, tuple[int, datetime]]:
    with read_connection(engine) as conn:
        return layer_states(conn, ids, PUBLIC_QUERY)


class StateChecks:
    """Layer state checks shared by the warm tiles that wait at the same time.

    :meth:`state` returns a layer's public state as read by a query that started after the
    call: a caller joins the batch being gathered, and a single drain task runs one batch
    after another (one query for all the layers a batch asks about) until none is waiting.
    A tile that arrives while a query runs thus waits for the next, never for one that may
    have started before an edit it should see.
    """

    def __init__(self, query: Callable[[frozenset[int]], dict[int, tuple[int, datetime]]]):
        self.query = query  # layer ids -> their states, run in the thread pool
        self._ids: set[int] = set()
        self._batch: asyncio.Future | None = None
        self._drain: asyncio.Task | None = None

    async def state(self, layer_id: int) -> tuple[int, datetime] | None:
        """The layer's (current version, updated_at) for the public (None: gone or hidden).
        Raises what the query raised (the caller lets the route answer)."""
        if self._batch is None:
            self._batch = asyncio.get_running_loop().create_future()
        batch = self._batch
        self._ids.add(layer_id)
        if self._drain is None:
            self._drain = asyncio.get_running_loop().create_task(self._run())
        # Shielded: a caller that goes away (client disconnect) must not cancel the batch the
        # others wait for.
        return (await asyncio.shield(batch)).get(layer_id)

    async def _run(self) -> None:
        try:
            while self._batch is not None:
                batch, ids = self._batch, frozenset(self._ids)
                self._batch, self._ids = None, set()
                try:
                    states = await anyio.to_thread.run_sync(self.query, ids)
                except Exception as exc:  # noqa: BLE001 - handed to every waiter
                    batch.set_exception(exc)
                except BaseException:  # cancelled: the waiters go on to the route
                    batch.set_exception(RuntimeError("check cancelled"))
                    raise
                else:
                    batch.set_result(states)
        finally:
            self._drain = None
            if self._batch is not None:  # stopped by cancellation with callers waiting
                self._batch.set_exception(RuntimeError("check cancelled"))
                self._batch, self._ids = None, set()


def state_checks(state) -> StateChecks:  # noqa: ANN001 - the app's State
    """The app's shared state checks (made at the first warm tile, in the event loop)."""
    checks = getattr(state, "state_checks", None)
    if checks is None:
        checks = state.state_checks = StateChecks(partial(_current_states, check_engine(state)))
    return checks


async def _warm_tile(scope: Scope, match: re.Match) -> Response | None:
    """The cached tile (or 304) when it is current for the public; None: let the route answer."""
    state = scope["app"].state
    cache = state.tile_cache
    collection = match["collection"]
    info = known_layer(collection, PUBLIC)
    if info is None:
        return None
    tms = WEB_MERCATOR_QUAD if match["tms"] is None else TILE_MATRIX_SETS.get(match["tms"])
    if tms is None:
        return None
    z, x, y = int(match["z"]), int(match["x"]), int(match["y"])
    key = _cache_key(info, tms, z, x, y, PUBLIC_QUERY, info.name)
    # A cached tile was made by a request that passed the matrix set's checks (same key).
    tile = cache.get(key, count_miss=False)
    if tile is None:
        return await _cold_tile(scope, info, tms, z, x, y, key)
    try:
        now = await state_checks(state).state(info.id)
    except Exception:  # noqa: BLE001 - the route meets the same error and answers it
        return None
    if now != (info.current_version, info.updated_at):
        # Edited, unpublished or gone: the route looks the layer up again (or answers 404).
        cache.forget_layer(info.id)
        forget_layer(collection, PUBLIC)
        return None
    headers = _headers(info, tms, z, x, y, {}, PUBLIC)
    conditional = next((v for k, v in scope["headers"] if k == b"if-none-match"), None)
    if conditional is not None:
        tags = [t.strip() for t in conditional.decode("latin-1").split(",")]
        if headers["ETag"] in tags:
            return Response(status_code=304, headers=headers)
    return _tile_response(tile, headers, True)


def _make_tile(engine: Engine, info: LayerInfo, req: TileRequest):  # noqa: ANN202 - the pair
    with read_connection(engine) as conn:
        return layer_tile_checked(conn, info, load_kinds()[info.kind], req, PUBLIC_QUERY)


async def _cold_tile(
    scope: Scope, info: LayerInfo, tms: TileMatrixSet, z: int, x: int, y: int, key: tuple
) -> Response | None:
    """A public tile not in the cache, made here as the route makes it (one hop to the thread
    pool, one round trip that also returns the layer's state); None: let the route answer
    (a conditional request, a tile outside the matrix set, a stale layer, any error)."""
    if any(name == b"if-none-match" for name, _ in scope["headers"]):
        return None  # the route looks the layer up before it compares the ETag
    try:
        tms.check(z, x, y)
    except LayerError:
        return None  # the route answers 400
    state = scope["app"].state
    req = TileRequest(tms, z, x, y, layer_name=info.name)
    try:
        tile, now = await anyio.to_thread.run_sync(_make_tile, check_engine(state), info, req)
    except Exception:  # noqa: BLE001 - the route meets the same error and answers it
        return None
    made_at = (info.current_version, info.updated_at)
    if now != made_at:
        state.tile_cache.forget_layer(info.id)
        forget_layer(info.name, PUBLIC)
        return None
    state.tile_cache.put(info.id, made_at, key, tile)
    return _tile_response(tile, _headers(info, tms, z, x, y, {}, PUBLIC), False)
