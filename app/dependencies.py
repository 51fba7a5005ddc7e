"""Dependencies: turn request parts into typed values (or a 4xx) before any domain code runs."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Query, Request
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from app.auth import (
    ANONYMOUS,
    AuthError,
    Principal,
    principal_for_token,
    principal_for_token_id,
    require_editor,
)
from app.errors import ApiError
from app.ratelimit import retry_after_s
from app.request_json import parse_json
from app.session import COOKIE as SESSION_COOKIE
from app.session import WRITE_PREFIX
from app.settings import AuthSettings, PlanningSettings, WebSettings
from layers.access import Viewer
from layers.query import CURSOR_MAX_CHARS, decode_cursor

MAX_INT32 = 2**31 - 1
"""Largest layer version, spec version and run id (PostgreSQL ``integer``)."""
MAX_INT64 = 2**63 - 1
"""Largest feature id and offset (PostgreSQL ``bigint``)."""

#: A feature id in a path: outside 1…2⁶³−1 it names nothing (404, before any SQL).
FidPath = Annotated[int, Path(ge=1, le=MAX_INT64, description="The feature's stable id.")]
#: A scenario run id in a path (404 outside 1…2³¹−1).
RunIdPath = Annotated[int, Path(ge=1, le=MAX_INT32, description="The run's id.")]
#: A layer or spec version in a query string.
VersionQuery = Annotated[
    int | None, Query(ge=1, le=MAX_INT32, description="An earlier version (default: current).")
]

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
RD_URI = "http://www.opengis.net/def/crs/EPSG/0/28992"
ETRS89_URI = "http://www.opengis.net/def/crs/EPSG/0/4258"
WGS84_URI = "http://www.opengis.net/def/crs/EPSG/0/4326"


@dataclass(frozen=True)
class OutputCrs:
    """A CRS the API can answer in: its URI, PostGIS SRID and whether axes are lat/lon."""

    uri: str
    srid: int
    latlon: bool
    decimals: int

    @property
    def label(self) -> str:
        """Short label for messages."""
        return self.uri.rsplit("/", 1)[-1] if "CRS84" in self.uri else f"EPSG:{self.srid}"


#: Supported CRSs by every spelling a client may use. EPSG:4258 and EPSG:4326 are lat/lon
#: in their official axis order (OGC API Features Part 2); CRS84 is lon/lat.
SUPPORTED_CRS: dict[str, OutputCrs] = {}
for _crs, _names in (
    (OutputCrs(CRS84_URI, 4326, False, 7), (CRS84_URI, "CRS84", "OGC:CRS84")),
    (OutputCrs(RD_URI, 28992, False, 3), (RD_URI, "EPSG:28992", "28992")),
    (OutputCrs(ETRS89_URI, 4258, True, 7), (ETRS89_URI, "EPSG:4258", "4258")),
    (OutputCrs(WGS84_URI, 4326, True, 7), (WGS84_URI, "EPSG:4326", "4326")),
):
    for _name in _names:
        SUPPORTED_CRS[_name] = _crs


def parse_output_crs(value: str | None, param: str = "crs") -> OutputCrs:
    """The CRS named by a ``crs`` / ``bbox-crs`` parameter (default CRS84); 400 if unsupported."""
    if value is None or value == "":
        return SUPPORTED_CRS[CRS84_URI]
    crs = SUPPORTED_CRS.get(value.strip())
    if crs is None:
        supported = ", ".join(sorted({c.uri for c in SUPPORTED_CRS.values()}))
        raise ApiError(400, f"unsupported {param} {value!r}; supported: {supported}")
    return crs


def parse_bbox(value: str | None, crs: OutputCrs) -> tuple[float, float, float, float] | None:
    """``minx,miny,maxx,maxy`` in ``crs`` axis order (lat/lon CRSs: minlat,minlon,…) → x/y box."""
    if value is None or value == "":
        return None
    parts = value.split(",")
    if len(parts) not in (4, 6):
        raise ApiError(400, f"bbox must be 4 numbers minx,miny,maxx,maxy; got {value!r}")
    try:
        nums = [float(p) for p in parts]
    except ValueError as exc:
        raise ApiError(400, f"bbox must be numbers; got {value!r}") from exc
    if len(nums) == 6:
        nums = [nums[0], nums[1], nums[3], nums[4]]
    if not all(math.isfinite(n) for n in nums):
        raise ApiError(400, "bbox must be finite numbers")
    a, b, c, d = nums
    if crs.latlon:
        a, b, c, d = b, a, d, c
    if a > c or b > d:
        raise ApiError(400, f"bbox minimum is larger than maximum: {value!r}")
    if crs.srid == 4326 or crs.srid == 4258:
        if not (-180 <= a <= 180 and -180 <= c <= 180 and -90 <= b <= 90 and -90 <= d <= 90):
            raise ApiError(400, f"bbox {value!r} is not in degrees of {crs.label}")
    return (a, b, c, d)


# The dependencies that only read the app's state are ``async def``: FastAPI runs a plain
# ``def`` dependency in the thread pool, a hop per dependency per request (a good part of
# what a small request cost, issue 14); these never block.


async def get_engine_dep(request: Request) -> Engine:
    """The engine the app was created with."""
    return request.app.state.engine


async def get_web_dep(request: Request) -> WebSettings:
    """The web settings the app was created with."""
    return request.app.state.web


async def get_planning_dep(request: Request) -> PlanningSettings:
    """The planning settings (HMC threshold) the app was created with."""
    return request.app.state.planning


EngineDep = Annotated[Engine, Depends(get_engine_dep)]
WebSettingsDep = Annotated[WebSettings, Depends(get_web_dep)]
PlanningDep = Annotated[PlanningSettings, Depends(get_planning_dep)]


@dataclass(frozen=True)
class Paging:
    """``limit`` and ``offset`` within the configured cap, or a keyset ``cursor``."""

    limit: int
    offset: int
    after: tuple | None = None
    """The decoded ``cursor``: the page starts after this key (:func:`layers.query.decode_cursor`)."""


def paging(
    settings: WebSettingsDep,
    limit: Annotated[
        int | None, Query(ge=1, description="Number of features (capped by the server).")
    ] = None,
    offset: Annotated[
        int, Query(ge=0, le=MAX_INT64, description="Number of features to skip.")
    ] = 0,
    cursor: Annotated[
        str | None,
        Query(
            max_length=CURSOR_MAX_CHARS,
            description="Where the page starts: the next links set it (keyset paging, as fast "
            "deep in a layer as on its first page).",
        ),
    ] = None,
) -> Paging:
    """Paging parameters; a ``limit`` over the cap is refused with 400, not silently cut."""
    lim = limit or settings.page_default
    if lim > settings.page_max:
        raise ApiError(400, f"limit {lim} is above the maximum of {settings.page_max}")
    if cursor is not None and offset:
        raise ApiError(400, "give cursor or offset, not both (the next links carry a cursor)")
    after = decode_cursor(cursor) if cursor is not None else None
    return Paging(limit=lim, offset=offset, after=after)


PagingDep = Annotated[Paging, Depends(paging)]


def _session_principal(engine: Engine, token_id: int) -> Principal:
    with engine.begin() as conn:
        principal = principal_for_token_id(conn, token_id)
    return replace(principal, via_session=True) if principal else ANONYMOUS


def _token_principal(request: Request, engine: Engine, token: str) -> Principal | None:
    with engine.begin() as conn:
        if token.startswith(WRITE_PREFIX):
            token_id = request.app.state.sessions.write_token_id(token)
            return principal_for_token_id(conn, token_id) if token_id is not None else None
        return principal_for_token(conn, token) if token else None


async def get_principal(
    request: Request,
    engine: EngineDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    """Who asks: the user of a valid bearer token, else of a browser session (reading only), else
    the anonymous public. A bad bearer token is 401; a stale session is simply anonymous.

    The anonymous public is answered on the event loop; looking up a token or session (the
    database) runs in the thread pool."""
    if not authorization:
        token_id = request.app.state.sessions.token_id(request.cookies.get(SESSION_COOKIE))
        if token_id is None:
            return ANONYMOUS
        return await run_in_threadpool(_session_principal, engine, token_id)
    challenge = {"WWW-Authenticate": 'Bearer realm="ruimte-circulair"'}
    if not authorization.lower().startswith("bearer "):
        raise ApiError(401, "use a bearer token: Authorization: Bearer …", headers=challenge)
    token = authorization[7:].strip()
    principal = await run_in_threadpool(_token_principal, request, engine, token)
    if principal is None:
        raise ApiError(
            401, "the bearer token is not valid (unknown, expired or revoked)", headers=challenge
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_viewer(principal: PrincipalDep) -> Viewer:
    """What the caller may read."""
    return principal.viewer


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


def require_writer(request: Request, principal: PrincipalDep) -> Principal:
    """An editor (401 without a token, 403 for a viewer), within the write rate limit (429)."""
    if principal.via_session:
        raise ApiError(
            401,
            "changes need the bearer token in the Authorization header, not a browser session",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        require_editor(principal)
    except AuthError as exc:
        raise ApiError(
            exc.status,
            exc.message,
            headers={"WWW-Authenticate": "Bearer"} if exc.status == 401 else None,
        ) from exc
    limiter = request.app.state.rate_limiter
    wait = limiter.take(principal.token_id or 0)
    if wait > 0:
        seconds = retry_after_s(wait)
        raise ApiError(
            429,
            f"too many writes (at most {limiter.capacity:.0f} at once, then "
            f"{limiter.per_second * 60:.0f} a minute); try again in {seconds} s",
            headers={"Retry-After": str(seconds)},
        )
    return principal


WriterDep = Annotated[Principal, Depends(require_writer)]


async def get_auth_dep(request: Request) -> AuthSettings:
    """The access-control settings the app was created with."""
    return request.app.state.auth


AuthSettingsDep = Annotated[AuthSettings, Depends(get_auth_dep)]


async def json_body(request: Request, settings: WebSettingsDep) -> Any:
    """The decoded body of a JSON request: 415 for another media type, 413 when too large,
    400/422 when it is not strict, bounded JSON (:func:`app.request_json.parse_json`)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in {"application/json", "application/geo+json"}:
        raise ApiError(
            415, f"send application/json or application/geo+json, not {ctype or 'nothing'}"
        )
    limit = int(settings.max_upload_mb * 1_000_000)
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise ApiError(
            413, f"request body of {int(declared)} bytes is over the limit of {limit} bytes"
        )
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise ApiError(413, f"request body is over the limit of {limit} bytes")
    if not body:
        raise ApiError(400, "the request has no body; send a JSON document")
    # Decoding and checking a large body takes a while: not on the event loop.
    return await run_in_threadpool(parse_json, bytes(body), settings.max_json_depth)


JsonBodyDep = Annotated[Any, Depends(json_body)]
