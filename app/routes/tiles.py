"""Vector tiles (Mapbox Vector Tile, made by PostGIS) and their TileJSON.

``/tiles/{collection}/{z}/{x}/{y}.mvt`` is WebMercatorQuad (what Leaflet, OpenLayers,
MapLibre and QGIS ask for); ``/tiles/{collection}/{tms}/{z}/{x}/{y}.mvt`` takes the tile
matrix set by id, ``WebMercatorQuad`` or ``NetherlandsRDNewQuad`` (RD New, PDOK's tiling).
Tiles carry an ``ETag`` (layer, version, tile, viewer) and ``Cache-Control``; a request with
a matching ``If-None-Match`` gets 304 without touching the features. Query parameters
other than these are property filters, as for the items (``?status=hard``).
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from app.dependencies import EngineDep, ViewerDep
from app.errors import ApiError
from app.ogc_models import Problem
from app.reads import read_connection
from layers.access import PUBLIC, Viewer
from layers.collections import current_layer, forget_layer, known_layer, lonlat_bbox
from layers.kinds import load_kinds
from layers.query import FeatureQuery
from layers.store import LayerInfo
from layers.tiles import (
    TILE_MATRIX_SETS,
    WEB_MERCATOR_QUAD,
    Tile,
    TileMatrixSet,
    TileRequest,
    layer_state,
    layer_tile,
    layer_tile_checked,
)

MVT = "application/vnd.mapbox-vector-tile"
TILEJSON = "application/json"
MAX_AGE_S = 60
"""How long clients may reuse a tile without asking (edits show within a minute)."""
MAX_ZOOM_WEB = 20

router = APIRouter(prefix="/tiles", tags=["vector tiles"])

# No bounds here: every index outside the tile matrix set is a 400 from its check (one rule at
# every zoom), not a 422 from path validation at some.
ZoomPath = Annotated[int, Path(description="Zoom level (tile matrix).")]
ColPath = Annotated[int, Path(description="Tile column.")]
RowPath = Annotated[int, Path(description="Tile row (from the top).")]
TILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {MVT: {"schema": {"type": "string", "format": "binary"}}},
        "description": "A Mapbox Vector Tile (empty when no feature falls in the tile)",
    },
    304: {"description": "Not modified (If-None-Match matched the ETag)"},
    400: {
        "model": Problem,
        "description": "Tile outside the matrix set, or a bad filter",
        "content": {"application/problem+json": {}},
    },
    404: {
        "model": Problem,
        "description": "No such layer or tile matrix set",
        "content": {"application/problem+json": {}},
    },
}
RESERVED = {"f"}


def _etag(
    info: LayerInfo,
    tms: TileMatrixSet,
    z: int,
    x: int,
    y: int,
    filters: dict[str, str],
    viewer: Viewer,
) -> str:
    key = (
        f"{tms.id}|{info.id}|{info.version}|{info.updated_at.isoformat()}|{z}/{x}/{y}|"
        f"{sorted(filters.items())}|{viewer!r}"
    )
    return '"' + hashlib.blake2b(key.encode(), digest_size=12).hexdigest() + '"'


def _matrix_set(tms_id: str) -> TileMatrixSet:
    tms = TILE_MATRIX_SETS.get(tms_id)
    if tms is None:
        raise ApiError(
            404, f"unknown tile matrix set {tms_id!r}; known: {', '.join(TILE_MATRIX_SETS)}"
        )
    return tms


def _cache_key(
    info: LayerInfo, tms: TileMatrixSet, z: int, x: int, y: int, q: FeatureQuery, name: str
) -> tuple:
    """What makes a tile (the layer id first: :class:`app.tile_cache.TileCache` purges by it)."""
    return (
        info.id,
        info.current_version,
        info.updated_at,
        q.viewer,
        tms.id,
        z,
        x,
        y,
        tuple(sorted(q.filters.items())),
        q.family,
        name,
    )


def _tile_response(tile: Tile, headers: dict[str, str], cached: bool) -> Response:
    return Response(
        tile.data,
        media_type=MVT,
        headers={**headers, **tile.headers(), "Ruimte-Tile-Cache": "hit" if cached else "miss"},
    )


def serve_tile(
    request: Request,
    conn,  # noqa: ANN001 - Connection
    info: LayerInfo,
    tms: TileMatrixSet,
    z: int,
    x: int,
    y: int,
    q: FeatureQuery,
    name: str,
    etag_filters: dict[str, str],
) -> Response:
    """The tile of ``info`` (current), from the tile cache or made; 304 when the client's copy
    is current."""
    headers = _headers(info, tms, z, x, y, etag_filters, q.viewer)
    conditional = request.headers.get("if-none-match")
    if conditional and headers["ETag"] in [t.strip() for t in conditional.split(",")]:
        return Response(status_code=304, headers=headers)
    cache = request.app.state.tile_cache
    key = _cache_key(info, tms, z, x, y, q, name)
    tile = cache.get(key) if cache.enabled else None
    if tile is not None:
        return _tile_response(tile, headers, True)
    tile = layer_tile(conn, info, load_kinds()[info.kind], TileRequest(tms, z, x, y, name), q)
    cache.put(info.id, (info.current_version, info.updated_at), key, tile)
    return _tile_response(tile, headers, False)


def tile_response(
    request: Request,
    engine,
    viewer: Viewer,
    collection: str,  # noqa: ANN001 - Engine
    tms: TileMatrixSet,
    z: int,
    x: int,
    y: int,
) -> Response:
    """The tile, or 304 when the client's copy is current.

    The usual request (no ``If-None-Match``) takes one round trip: a cached tile is served
    after checking the layer's state (:func:`layers.tiles.layer_state`, a small query), a new
    one is made by the tile query that also returns that state; both are checked against the
    layer as last looked up (:func:`layers.collections.known_layer`). When that is stale, or on
    a conditional request, the layer is looked up first, as for any other request.

    A cached tile for the public (no credentials, no filters) does not get here: the same check
    is made before routing, by :class:`app.warm_tiles.WarmTiles`, with the same headers.
    """
    tms.check(z, x, y)
    filters = {k: v for k, v in request.query_params.items() if k not in RESERVED}
    q = FeatureQuery(filters=filters, viewer=viewer)
    conditional = request.headers.get("if-none-match")
    cache = request.app.state.tile_cache
    with read_connection(engine) as conn:
        info = None if conditional else known_layer(collection, viewer)
        if info is not None:
            headers = _headers(info, tms, z, x, y, filters, viewer)
            state = (info.current_version, info.updated_at)
            key = _cache_key(info, tms, z, x, y, q, info.name)
            tile = cache.get(key) if cache.enabled else None
            if tile is not None:
                if layer_state(conn, info, q) == state:
                    return _tile_response(tile, headers, True)
                cache.forget_layer(info.id)
            else:
                req = TileRequest(tms, z, x, y, layer_name=info.name)
                tile, now = layer_tile_checked(conn, info, load_kinds()[info.kind], req, q)
                if now == state:
                    cache.put(info.id, state, key, tile)
                    return _tile_response(tile, headers, False)
            forget_layer(collection, viewer)
        info = current_layer(conn, collection, viewer)
        return serve_tile(request, conn, info, tms, z, x, y, q, info.name, filters)


def _headers(
    info: LayerInfo,
    tms: TileMatrixSet,
    z: int,
    x: int,
    y: int,
    filters: dict[str, str],
    viewer: Viewer,
) -> dict[str, str]:
    """ETag and caching: public for what everyone sees, private for a signed-in viewer."""
    return {
        "ETag": _etag(info, tms, z, x, y, filters, viewer),
        "Cache-Control": f"{'public' if viewer == PUBLIC else 'private'}, max-age={MAX_AGE_S}",
        "Vary": "Authorization, Cookie",
    }


@router.get(
    "/{collection}/{z}/{x}/{y}.mvt",
    summary="Vector tile (WebMercatorQuad)",
    response_class=Response,
    responses=TILE_RESPONSES,
    name="tile",
)
def tile(
    collection: str,
    z: ZoomPath,
    x: ColPath,
    y: RowPath,
    request: Request,
    engine: EngineDep,
    viewer: ViewerDep,
) -> Response:
    """A tile of a layer in WebMercatorQuad (EPSG:3857), as web maps ask for it."""
    return tile_response(request, engine, viewer, collection, WEB_MERCATOR_QUAD, z, x, y)


@router.get(
    "/{collection}/{tileMatrixSetId}/{z}/{x}/{y}.mvt",
    summary="Vector tile in a tile matrix set",
    response_class=Response,
    responses=TILE_RESPONSES,
    name="tile_tms",
)
def tile_tms(
    collection: str,
    tileMatrixSetId: str,
    z: ZoomPath,
    x: ColPath,
    y: RowPath,  # noqa: N803
    request: Request,
    engine: EngineDep,
    viewer: ViewerDep,
) -> Response:
    """A tile in ``WebMercatorQuad`` or ``NetherlandsRDNewQuad`` (RD New, as PDOK tiles)."""
    return tile_response(request, engine, viewer, collection, _matrix_set(tileMatrixSetId), z, x, y)


@router.get(
    "/{collection}.json",
    summary="TileJSON of a layer's vector tiles",
    name="tilejson",
    responses={404: TILE_RESPONSES[404]},
)
def tilejson(
    collection: str, request: Request, engine: EngineDep, viewer: ViewerDep
) -> dict[str, Any]:
    """TileJSON 3.0 for the WebMercatorQuad tiles: URL template, bounds, zooms, fields."""
    with read_connection(engine) as conn:
        info = current_layer(conn, collection, viewer)
    kind = load_kinds()[info.kind]
    root = str(request.base_url).rstrip("/")
    bounds = (
        list(lonlat_bbox(tuple(info.bbox))) if info.bbox else [-180.0, -85.0511, 180.0, 85.0511]
    )
    fields = {
        **{f.name: f.label for f in kind.fields.values()},
        **{n: n for n in info.extra_fields},
    }
    return {
        "tilejson": "3.0.0",
        "name": info.title,
        "description": info.description or kind.title,
        "version": f"{info.version}.0.0",
        "attribution": info.provenance.attribution or "Ruimte Circulair",
        "scheme": "xyz",
        "tiles": [f"{root}/tiles/{info.name}/{{z}}/{{x}}/{{y}}.mvt"],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM_WEB,
        "bounds": bounds,
        "center": [
            round((bounds[0] + bounds[2]) / 2, 6),
            round((bounds[1] + bounds[3]) / 2, 6),
            10,
        ],
        "vector_layers": [
            {
                "id": info.name,
                "description": info.title,
                "minzoom": 0,
                "maxzoom": MAX_ZOOM_WEB,
                "fields": fields,
            }
        ],
    }
