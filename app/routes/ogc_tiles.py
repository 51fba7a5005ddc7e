"""OGC API – Tiles and Styles at ``/ogc``: tile matrix sets, tilesets per collection, the
vector tiles themselves, TileJSON per tile matrix set, and MapLibre styles.

- ``/ogc/tileMatrixSets[/{id}]``: WebMercatorQuad and NetherlandsRDNewQuad as OGC TMS 2.0
  JSON (``morecantile``; :mod:`layers.tiles`), so that clients find the RD New tiling.
- ``/ogc/collections/{c}/tiles[/{tms}]``: the tilesets of a collection and their metadata
  (tile URL template, tiling scheme, TileJSON); ``…/{tms}/{tileMatrix}/{tileRow}/{tileCol}``
  is the tile (the same tiles as ``/tiles``, row before column as OGC orders them); a part of
  a mixed layer (``hoofdstructuur-knooppunten``) has tiles of its geometry type only.
- ``/ogc/styles[/{styleId}]``: a MapLibre style per layer from ``layers/data/styles.yaml``,
  and ``kaartlagen`` for all layers at once.
Every index outside a tile matrix set is a 400.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from app.dependencies import EngineDep, PlanningDep, ViewerDep
from app.errors import ApiError
from app.reads import read_connection
from app.routes.ogc import ERRORS, JSON, OgcRoute, _base, _json
from app.routes.tiles import (
    MAX_ZOOM_WEB,
    MVT,
    RESERVED,
    _matrix_set,
    serve_tile,
    tile_response,
)
from layers.collections import (
    CollectionRef,
    collections_of,
    geometry_families,
    lonlat_bbox,
    resolve_collection,
)
from layers.maplibre import StyledSource, maplibre_style
from layers.query import FeatureQuery
from layers.store import list_layers
from layers.styles import layer_style
from layers.tiles import TILE_MATRIX_SETS, TileMatrixSet, tile_rules

TMS_JSON = "application/json"
TILEJSON = "application/vnd.mapbox.tile+json"
STYLE_JSON = "application/vnd.mapbox.style+json"
REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
REL_TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
REL_STYLES = "http://www.opengis.net/def/rel/ogc/1.0/styles"
ALL_LAYERS_STYLE = "kaartlagen"

router = APIRouter(prefix="/ogc", tags=["OGC API – Tiles and Styles"], route_class=OgcRoute)


# -- tile matrix sets -------------------------------------------------------------------------


@router.get("/tileMatrixSets", summary="The tile matrix sets (tiling schemes)")
def tile_matrix_sets(request: Request) -> Response:
    """WebMercatorQuad and NetherlandsRDNewQuad."""
    base = _base(request)
    return _json(
        {
            "links": [{"href": f"{base}/tileMatrixSets", "rel": "self", "type": JSON}],
            "tileMatrixSets": [
                {
                    "id": t.id,
                    "title": t.title,
                    "uri": t.uri,
                    "crs": t.document()["crs"],
                    "links": [
                        {
                            "href": f"{base}/tileMatrixSets/{t.id}",
                            "rel": "self",
                            "type": TMS_JSON,
                            "title": t.title,
                        }
                    ],
                }
                for t in TILE_MATRIX_SETS.values()
            ],
        }
    )


@router.get(
    "/tileMatrixSets/{tileMatrixSetId}",
    summary="A tile matrix set (OGC TMS 2.0 JSON)",
    responses={404: ERRORS[404]},
)
def tile_matrix_set(tileMatrixSetId: str) -> Response:  # noqa: N803
    """The definition: CRS, origin, cell sizes and matrix sizes per tile matrix."""
    return _json(_matrix_set(tileMatrixSetId).document(), TMS_JSON)


# -- tilesets of a collection ---------------------------------------------------------------


def _tiles_href(base: str, ref: CollectionRef, tms: TileMatrixSet) -> str:
    return f"{base}/collections/{ref.id}/tiles/{tms.id}"


def tileset_doc(base: str, ref: CollectionRef, tms: TileMatrixSet) -> dict[str, Any]:
    """Tileset metadata (OGC API – Tiles): data type, CRS, tiling scheme, URL template."""
    href = _tiles_href(base, ref, tms)
    doc: dict[str, Any] = {
        "title": f"{ref.title} ({tms.id})",
        "description": tile_rules().describe(),
        "dataType": "vector",
        "crs": tms.document()["crs"],
        "tileMatrixSetURI": tms.uri,
        "links": [
            {"href": href, "rel": "self", "type": JSON, "title": "deze tegelset"},
            {
                "href": f"{base}/tileMatrixSets/{tms.id}",
                "rel": REL_TILING_SCHEME,
                "type": TMS_JSON,
                "title": tms.title,
            },
            {
                "href": f"{href}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}",
                "rel": "item",
                "type": MVT,
                "templated": True,
                "title": "vectortegels (Mapbox Vector Tile)",
            },
            {
                "href": f"{href}/tilejson",
                "rel": "describedby",
                "type": TILEJSON,
                "title": "TileJSON",
            },
        ],
        "layers": [
            {
                "id": ref.id,
                "title": ref.title,
                "dataType": "vector",
                "geometryDimension": {"point": 0, "line": 1, "polygon": 2}.get(
                    ref.family or ref.kind.geometry
                ),
            }
        ],
    }
    if ref.info.bbox:
        lo = lonlat_bbox(tuple(ref.info.bbox))
        doc["boundingBox"] = {
            "lowerLeft": [lo[0], lo[1]],
            "upperRight": [lo[2], lo[3]],
            "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        }
    return doc


@router.get(
    "/collections/{collectionId}/tiles",
    summary="The vector tilesets of a collection",
    responses={404: ERRORS[404]},
)
def collection_tilesets(
    collectionId: str,  # noqa: N803
    request: Request,
    engine: EngineDep,
    viewer: ViewerDep,
) -> Response:
    """One tileset per tile matrix set."""
    with read_connection(engine) as conn:
        ref = resolve_collection(conn, collectionId, viewer)
    base = _base(request)
    sets = []
    for tms in TILE_MATRIX_SETS.values():
        full = tileset_doc(base, ref, tms)
        sets.append({k: full[k] for k in ("title", "dataType", "crs", "tileMatrixSetURI", "links")})
    return _json(
        {
            "links": [
                {"href": f"{base}/collections/{ref.id}/tiles", "rel": "self", "type": JSON},
                {"href": f"{base}/collections/{ref.id}", "rel": "collection", "type": JSON},
            ],
            "tilesets": sets,
        }
    )


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}",
    summary="A tileset: its metadata",
    responses={404: ERRORS[404]},
)
def collection_tileset(
    collectionId: str,  # noqa: N803
    tileMatrixSetId: str,  # noqa: N803
    request: Request,
    engine: EngineDep,
    viewer: ViewerDep,
) -> Response:
    """Data type, CRS, tiling scheme, tile URL template and TileJSON link."""
    tms = _matrix_set(tileMatrixSetId)
    with read_connection(engine) as conn:
        ref = resolve_collection(conn, collectionId, viewer)
    return _json(tileset_doc(_base(request), ref, tms))


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}/tilejson",
    summary="TileJSON of a tileset",
    responses={404: ERRORS[404]},
)
def collection_tilejson(
    collectionId: str,  # noqa: N803
    tileMatrixSetId: str,  # noqa: N803
    request: Request,
    engine: EngineDep,
    viewer: ViewerDep,
) -> Response:
    """TileJSON 3.0 with the tile URL in z/x/y order. For NetherlandsRDNewQuad the indices are
    that tiling's (a client must know it; ``crs`` and ``tileMatrixSetURI`` say which)."""
    tms = _matrix_set(tileMatrixSetId)
    with read_connection(engine) as conn:
        ref = resolve_collection(conn, collectionId, viewer)
    return _json(tilejson_doc(_base(request), ref, tms), TILEJSON)


def tilejson_doc(base: str, ref: CollectionRef, tms: TileMatrixSet) -> dict[str, Any]:
    """TileJSON of a collection's tiles in ``tms``."""
    info, kind = ref.info, ref.kind
    bounds = (
        list(lonlat_bbox(tuple(info.bbox))) if info.bbox else [-180.0, -85.0511, 180.0, 85.0511]
    )
    maxzoom = min(tms.max_zoom, MAX_ZOOM_WEB)
    fields = {
        **{f.name: f.label for f in kind.fields.values()},
        **{n: n for n in info.extra_fields},
    }
    return {
        "tilejson": "3.0.0",
        "name": ref.title,
        "description": info.description or kind.title,
        "version": f"{info.version}.0.0",
        "attribution": info.provenance.attribution or "Ruimte Circulair",
        "scheme": "xyz",
        "tiles": [f"{_tiles_href(base, ref, tms)}/{{z}}/{{y}}/{{x}}"],
        "minzoom": 0,
        "maxzoom": maxzoom,
        "bounds": bounds,
        "center": [
            round((bounds[0] + bounds[2]) / 2, 6),
            round((bounds[1] + bounds[3]) / 2, 6),
            min(10, maxzoom),
        ],
        "crs": tms.document()["crs"],
        "tileMatrixSetURI": tms.uri,
        "vector_layers": [
            {
                "id": ref.id,
                "description": ref.title,
                "minzoom": 0,
                "maxzoom": maxzoom,
                "fields": fields,
            }
        ],
    }


def _index(value: str, what: str) -> int:
    if not (value.isascii() and value.lstrip("-").isdigit() and len(value) <= 12):
        raise ApiError(400, f"{what} {value!r} is not a whole number")
    return int(value)


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
    summary="A vector tile",
    response_class=Response,
    responses={
        200: {"content": {MVT: {"schema": {"type": "string", "format": "binary"}}}},
        304: {"description": "Not modified (If-None-Match matched the ETag)"},
        **ERRORS,
    },
    name="ogc_tile",
)
def collection_tile(
    collectionId: str,  # noqa: N803
    tileMatrixSetId: str,  # noqa: N803
    tileMatrix: str,  # noqa: N803
    tileRow: str,  # noqa: N803
    tileCol: str,  # noqa: N803
    request: Request,
    engine: EngineDep,
    viewer: ViewerDep,
) -> Response:
    """The tile at tile matrix ``tileMatrix``, row ``tileRow`` (from the top), column
    ``tileCol``; 400 for any index outside the tile matrix set."""
    tms = _matrix_set(tileMatrixSetId)
    z = _index(tileMatrix, "tileMatrix")
    y, x = _index(tileRow, "tileRow"), _index(tileCol, "tileCol")
    tms.check(z, x, y)
    with read_connection(engine) as conn:
        ref = resolve_collection(conn, collectionId, viewer)
        if ref.family is not None:  # a part of a mixed layer: its geometry type only
            filters = {k: v for k, v in request.query_params.items() if k not in RESERVED}
            q = FeatureQuery(filters=filters, viewer=viewer, family=ref.family)
            etag_filters = {**filters, "~part": ref.family}
            return serve_tile(request, conn, ref.info, tms, z, x, y, q, ref.id, etag_filters)
    return tile_response(request, engine, viewer, ref.info.name, tms, z, x, y)


# -- styles -----------------------------------------------------------------------------------


def _styled_source(conn, base: str, ref: CollectionRef, viewer, hmc: str) -> StyledSource:  # noqa: ANN001
    families = (ref.family,) if ref.family else geometry_families(conn, ref.info, ref.kind, viewer)
    return StyledSource(
        id=ref.id,
        tilejson_url=f"{base}/collections/{ref.id}/tiles/WebMercatorQuad/tilejson",
        source_layer=ref.id,
        style=layer_style(ref.kind, ref.title, hmc),
        families=families,
        attribution=ref.info.provenance.attribution,
    )


#: Drawing order of the kaartlagen style: areas first, points last (lower draws first).
_DRAW_ORDER = {"polygon": 0, "point_or_polygon": 1, "any": 2, "line": 2, "point": 3}


def _all_refs(conn, viewer) -> list[CollectionRef]:  # noqa: ANN001
    refs = [
        ref
        for info in list_layers(conn, viewer)
        if not info.name.startswith("run-")
        for ref in collections_of(conn, info, viewer)
    ]
    return sorted(refs, key=lambda r: (_DRAW_ORDER.get(r.family or r.kind.geometry, 2), r.id))


@router.get("/styles", summary="The map styles (MapLibre)")
def styles(request: Request, engine: EngineDep, viewer: ViewerDep) -> Response:
    """One style per layer, and ``kaartlagen`` with all of them."""
    base = _base(request)
    with read_connection(engine) as conn:
        ids = [ref.info.name for ref in _all_refs(conn, viewer)]
    entries = [ALL_LAYERS_STYLE, *dict.fromkeys(ids)]
    return _json(
        {
            "links": [{"href": f"{base}/styles", "rel": "self", "type": JSON}],
            "styles": [
                {
                    "id": sid,
                    "title": "Alle kaartlagen" if sid == ALL_LAYERS_STYLE else sid,
                    "links": [
                        {
                            "href": f"{base}/styles/{sid}",
                            "rel": "stylesheet",
                            "type": STYLE_JSON,
                        }
                    ],
                }
                for sid in entries
            ],
        }
    )


@router.get(
    "/styles/{styleId}",
    summary="A MapLibre style (layer name, or kaartlagen)",
    responses={200: {"content": {STYLE_JSON: {"schema": {"type": "object"}}}}, **ERRORS},
)
def style(
    styleId: str,  # noqa: N803
    request: Request,
    engine: EngineDep,
    viewer: ViewerDep,
    planning: PlanningDep,
) -> Response:
    """A style document for MapLibre GL: vector tile sources (TileJSON) and style layers per
    rule of ``layers/data/styles.yaml``; a mixed layer gets a source per geometry type."""
    base = _base(request)
    hmc = planning.hmc_threshold
    with read_connection(engine) as conn:
        if styleId == ALL_LAYERS_STYLE:
            refs = _all_refs(conn, viewer)
            title = "Ruimte Circulair – alle kaartlagen"
        else:
            ref = resolve_collection(conn, styleId, viewer)
            refs = collections_of(conn, ref.info, viewer) if ref.id == ref.info.name else [ref]
            title = ref.title
        sources = [_styled_source(conn, base, r, viewer, hmc) for r in refs]
    return _json(maplibre_style(title, sources), STYLE_JSON)
