"""OGC API – Features at ``/ogc``: Part 1 (Core, GeoJSON, HTML, OpenAPI 3.0), Part 2 (CRS by
reference) and Part 3 (queryables, CQL2 ``filter``), with ``sortby``, ``properties``,
``skipGeometry`` and CSV / GeoJSON text sequence output.

One collection per layer the caller may see. Items come from :func:`layers.query.query_features`
(GeoJSON made by PostGIS), so the API, the maps, the tiles and this service apply one
visibility rule. CRS84 is the default; ``crs`` and ``bbox-crs`` take CRS84, EPSG:28992
(RD New, the storage CRS) and EPSG:4258/4326 (lat/lon axis order). ``numberMatched`` is
given when it is cheap: exact when the page is the last, else from a count that stops
after ``count_max`` rows (omitted above it). HTML pages are in Dutch.

Conformance classes are declared here, beside the code that implements them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from shapely.geometry import shape
from sqlalchemy import Connection

from app.dependencies import (
    CRS84_URI,
    ETRS89_URI,
    RD_URI,
    WGS84_URI,
    EngineDep,
    OutputCrs,
    ViewerDep,
    parse_bbox,
    parse_output_crs,
)
from app.errors import ApiError, problem
from app.nl_format import page_templates
from app.ogc_models import (
    Collection,
    Collections,
    ConformanceDeclaration,
    Feature,
    FeatureCollection,
    LandingPage,
    Problem,
)
from app.ogc_openapi import OPENAPI_30, RESERVED, openapi_document, property_schema
from app.reads import read_connection
from layers.access import Viewer
from layers.collections import (
    CollectionRef,
    collections_of,
    lonlat_bbox,
    resolve_collection,
    temporal_extent,
)
from layers.cql import FILTER_LANGS, parse_filter, parse_instant, queryable_types
from layers.edit import current_feature, etag
from layers.query import (
    CURSOR_MAX_CHARS,
    FeatureQuery,
    decode_cursor,
    encode_cursor,
    query_features,
    uses_tile_geometry,
)
from layers.store import list_layers
from layers.tile_geometries import prepare_later

GEOJSON = "application/geo+json"
GEOJSON_SEQ = "application/geo+json-seq"
CSV = "text/csv"
JSON = "application/json"
SCHEMA_JSON = "application/schema+json"
HTML = "text/html"
OPENAPI_JSON = OPENAPI_30
REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"

# -- conformance: Part 1 (core, GeoJSON, HTML) -------------------------------------------
CONF_CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
CONF_GEOJSON = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"
CONF_HTML = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html"
CONF_OAS30 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30"
# -- conformance: Part 2 (crs and bbox-crs parameters, Content-Crs, storageCrs) ----------
CONF_CRS = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"
# -- conformance: Part 3 (queryables, property=value, filter) and CQL2 (layers/cql.py) ----
_F3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf"
_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf"
CONF_FILTERING = [
    f"{_F3}/queryables",
    f"{_F3}/queryables-query-parameters",
    f"{_F3}/filter",
    f"{_F3}/features-filter",
    f"{_CQL2}/cql2-text",
    f"{_CQL2}/cql2-json",
    f"{_CQL2}/basic-cql2",
    f"{_CQL2}/advanced-comparison-operators",
    f"{_CQL2}/case-insensitive-comparison",
    f"{_CQL2}/basic-spatial-functions",
    f"{_CQL2}/basic-spatial-functions-plus",
    f"{_CQL2}/property-property",
]
# -- conformance: Part 4 (app/routes/ogc_transactions.py: the REST API's writes) -----------
CONF_CRD = "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete"
# -- conformance: OGC API – Tiles and the tile matrix sets (app/routes/ogc_tiles.py) ---------
_T = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf"
CONF_TILES = [
    f"{_T}/core",
    f"{_T}/tileset",
    f"{_T}/tilesets-list",
    f"{_T}/geodata-tilesets",
    f"{_T}/mvt",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]
CONFORMANCE = [
    CONF_CORE,
    CONF_OAS30,
    CONF_GEOJSON,
    CONF_HTML,
    CONF_CRS,
    *CONF_FILTERING,
    CONF_CRD,
    *CONF_TILES,
]

#: The CRSs offered for every collection (Part 2): CRS84 first, the default.
SUPPORTED_CRS_URIS = [CRS84_URI, RD_URI, ETRS89_URI, WGS84_URI]
#: Query parameters of ``items`` that are not property filters (the OpenAPI document's).
ITEMS_PARAMS = RESERVED
LIMIT_DEFAULT = 10
LIMIT_MAX = 10_000
"""Largest page; a larger ``limit`` is clamped to it (``RUIMTE_WEB_PAGE_MAX`` when set)."""
COUNT_MAX = 10_000
"""Largest ``numberMatched`` that is counted; above it the count is left out."""

templates = page_templates()


class OgcRoute(APIRoute):
    """Invalid query parameters are a 400 here (OGC API – Features), not FastAPI's 422."""

    def get_route_handler(self) -> Callable:
        """Wrap the handler: request validation errors become problem+json 400."""
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                where = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors())
                return problem(
                    400,
                    f"invalid parameter: {where}",
                    request,
                    [
                        {"loc": list(e.get("loc", ())), "message": e.get("msg", "")}
                        for e in exc.errors()
                    ],
                )

        return route


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": Problem,
        "description": "Invalid parameter",
        "content": {"application/problem+json": {}},
    },
    404: {
        "model": Problem,
        "description": "Not found",
        "content": {"application/problem+json": {}},
    },
}
router = APIRouter(prefix="/ogc", tags=["OGC API – Features"], route_class=OgcRoute)

FormatParam = Annotated[
    str | None,
    Query(pattern="^(json|html)$", description="json (default) or html; else from Accept."),
]
ItemsFormatParam = Annotated[
    str | None,
    Query(
        pattern="^(json|html|csv|geojsonseq)$",
        description="json (GeoJSON, default), html, csv or geojsonseq (RFC 8142); "
        "else from Accept.",
    ),
]


def wants_html(request: Request, f: str | None) -> bool:
    """HTML when ``f=html``, or when the client prefers text/html (a browser) and no ``f``."""
    if f:
        return f == "html"
    accept = request.headers.get("accept", "")
    return HTML in accept and "json" not in accept.split(HTML)[0]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _json(doc: Any, media_type: str = JSON, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(doc, ensure_ascii=False), media_type=media_type, headers=headers)


def _html(request: Request, template: str, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, template, context)


# -- landing page and conformance --------------------------------------------------------


@router.get(
    "/",
    summary="Landing page",
    response_model=LandingPage,
    responses={200: {"content": {HTML: {}}}},
    include_in_schema=False,
)
@router.get(
    "", summary="Landing page", response_model=LandingPage, responses={200: {"content": {HTML: {}}}}
)
def landing(request: Request, f: FormatParam = None) -> Response:
    """Links to the API description, the conformance declaration and the collections."""
    base = _base(request)
    root = str(request.base_url).rstrip("/")
    doc = {
        "title": "Ruimte Circulair – kaartlagen (OGC API – Features)",
        "description": "Kaartlagen van de circulaire economie in "
        f"{request.app.state.work_area.in_text}: "
        "bedrijventerreinen, reserveringen, strategische locaties en meer. "
        "Opgeslagen in RD New (EPSG:28992); standaard in CRS84, op verzoek in RD New of ETRS89.",
        "links": [
            {"href": base, "rel": "self", "type": JSON, "title": "deze pagina"},
            {
                "href": f"{base}?f=html",
                "rel": "alternate",
                "type": HTML,
                "title": "deze pagina als HTML",
            },
            {
                "href": f"{base}/api",
                "rel": "service-desc",
                "type": OPENAPI_JSON,
                "title": "API-beschrijving (OpenAPI 3.0)",
            },
            {
                "href": f"{root}/api-docs",
                "rel": "service-doc",
                "type": HTML,
                "title": "API-documentatie",
            },
            {
                "href": f"{base}/conformance",
                "rel": "conformance",
                "type": JSON,
                "title": "conformiteitsklassen",
            },
            {
                "href": f"{base}/collections",
                "rel": "data",
                "type": JSON,
                "title": "collecties (kaartlagen)",
            },
            {
                "href": f"{base}/tileMatrixSets",
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
                "type": JSON,
                "title": "tegelschema's (WebMercatorQuad, NetherlandsRDNewQuad)",
            },
            {
                "href": f"{base}/styles",
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/styles",
                "type": JSON,
                "title": "kaartstijlen (MapLibre)",
            },
        ],
    }
    if wants_html(request, f):
        return _html(request, "ogc_landing.html", doc=doc)
    return _json(doc)


@router.get(
    "/conformance",
    summary="Conformance declaration",
    response_model=ConformanceDeclaration,
    responses={200: {"content": {HTML: {}}}},
)
def conformance(request: Request, f: FormatParam = None) -> Response:
    """The conformance classes this service implements."""
    doc = {"conformsTo": CONFORMANCE}
    if wants_html(request, f):
        return _html(request, "ogc_conformance.html", doc=doc)
    return _json(doc)


# -- collections ---------------------------------------------------------------------------


def collection_doc(
    conn: Connection, ref: CollectionRef, base: str, viewer: Viewer
) -> dict[str, Any]:
    """The collection document of a layer or of one geometry type of a mixed layer (extent in
    CRS84, storage CRS, links)."""
    info, kind = ref.info, ref.kind
    href = f"{base}/collections/{ref.id}"
    doc: dict[str, Any] = {
        "id": ref.id,
        "title": ref.title,
        "description": info.description or kind.title,
        "itemType": "feature",
        "crs": SUPPORTED_CRS_URIS,
        "storageCrs": RD_URI,
        "links": [
            {"href": href, "rel": "self", "type": JSON, "title": ref.title},
            {
                "href": f"{href}?f=html",
                "rel": "alternate",
                "type": HTML,
                "title": f"{ref.title} (HTML)",
            },
            {
                "href": f"{href}/items",
                "rel": "items",
                "type": GEOJSON,
                "title": "objecten (GeoJSON)",
            },
            {
                "href": f"{href}/items?f=html",
                "rel": "items",
                "type": HTML,
                "title": "objecten (HTML)",
            },
            {
                "href": f"{href}/tiles",
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                "type": JSON,
                "title": "vectortegelsets (WebMercatorQuad, NetherlandsRDNewQuad)",
            },
            {
                "href": f"{base}/styles/{ref.id}",
                "rel": "stylesheet",
                "type": "application/vnd.mapbox.style+json",
                "title": "kaartstijl (MapLibre)",
            },
            {
                "href": f"{href}/queryables",
                "rel": REL_QUERYABLES,
                "type": SCHEMA_JSON,
                "title": "eigenschappen om op te filteren (JSON Schema)",
            },
            {
                "href": f"{base.removesuffix('/ogc')}/api/layers/{info.name}/download?format=gpkg",
                "rel": "enclosure",
                "type": "application/geopackage+sqlite3",
                "title": "GeoPackage met QGIS-stijl",
            },
            {
                "href": f"{base.removesuffix('/ogc')}/tiles/{info.name}.json",
                "rel": "describedby",
                "type": "application/vnd.mapbox.tile+json",
                "title": "vectortegels (TileJSON)",
            },
            {
                "href": f"{base.removesuffix('/ogc')}/api/styles/{info.name}.qml",
                "rel": "stylesheet",
                "type": "application/vnd.qgis.qml",
                "title": "QGIS-stijl (QML)",
            },
            {
                "href": f"{base.removesuffix('/ogc')}/api/styles/{info.name}.sld",
                "rel": "stylesheet",
                "type": "application/vnd.ogc.sld+xml",
                "title": "stijl (SLD 1.0)",
            },
        ],
    }
    extent: dict[str, Any] = {}
    if info.bbox:
        extent["spatial"] = {"bbox": [list(lonlat_bbox(tuple(info.bbox)))], "crs": CRS84_URI}
        doc["storageCrsBbox"] = [list(info.bbox)]
    if ref.family is not None:
        doc["description"] = (
            f"{doc['description']} Alleen de {kind.part_name(ref.family)} "
            f"({ref.family}); de laag {info.name} heeft meer geometrietypen."
        )
    times = temporal_extent(conn, info, kind, FeatureQuery(viewer=viewer, family=ref.family))
    if times is not None:
        extent["temporal"] = {
            "interval": [list(times)],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    if extent:
        doc["extent"] = extent
    return doc


@router.get(
    "/collections",
    summary="The collections (layers)",
    response_model=Collections,
    responses={200: {"content": {HTML: {}}}},
)
def collections(
    request: Request, engine: EngineDep, viewer: ViewerDep, f: FormatParam = None
) -> Response:
    """Every layer the caller may see, with its extent and supported CRSs."""
    base = _base(request)
    with read_connection(engine) as conn:
        docs = [
            collection_doc(conn, ref, base, viewer)
            for info in list_layers(conn, viewer)
            for ref in collections_of(conn, info, viewer)
        ]
    doc = {
        "links": [
            {"href": f"{base}/collections", "rel": "self", "type": JSON, "title": "collecties"},
            {
                "href": f"{base}/collections?f=html",
                "rel": "alternate",
                "type": HTML,
                "title": "collecties (HTML)",
            },
        ],
        "collections": docs,
        "crs": SUPPORTED_CRS_URIS,
    }
    if wants_html(request, f):
        return _html(request, "ogc_collections.html", doc=doc)
    return _json(doc)


def _collection(conn: Connection, collection_id: str, viewer: Viewer) -> CollectionRef:
    return resolve_collection(conn, collection_id, viewer)


@router.get(
    "/collections/{collectionId}",
    summary="A collection (layer)",
    response_model=Collection,
    responses={200: {"content": {HTML: {}}}, **ERRORS},
    name="ogc_collection",
)
def collection_by_id(
    collectionId: str,
    request: Request,
    engine: EngineDep,
    viewer: ViewerDep,  # noqa: N803
    f: FormatParam = None,
) -> Response:
    """One layer: title, description, extent (CRS84 and temporal), CRSs, links."""
    with read_connection(engine) as conn:
        doc = collection_doc(conn, _collection(conn, collectionId, viewer), _base(request), viewer)
    if wants_html(request, f):
        return _html(request, "ogc_collection.html", doc=doc)
    return _json(doc)


def queryables_doc(ref: CollectionRef, href: str) -> dict[str, Any]:
    """The queryables of a layer as JSON Schema (Part 3): every field of its kind, its kept
    extra fields and the geometry, with Dutch titles, types, formats and enum values."""
    info, kind = ref.info, ref.kind
    props: dict[str, Any] = {
        "geometry": {
            "title": "Geometrie",
            "format": _GEOMETRY_FORMATS.get(ref.family or kind.geometry, "geometry-any"),
            "x-ogc-role": "primary-geometry",
        }
    }
    for name, ftype in queryable_types(kind, info.extra_fields).items():
        spec = kind.fields.get(name)
        entry: dict[str, Any] = {"title": spec.label if spec else name}
        entry.update(property_schema(ftype, spec))
        props[name] = entry
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": href,
        "type": "object",
        "title": ref.title,
        "properties": props,
        "additionalProperties": False,
    }


_GEOMETRY_FORMATS = {
    "polygon": "geometry-multipolygon",
    "point": "geometry-point",
    "line": "geometry-multilinestring",
}


@router.get(
    "/collections/{collectionId}/queryables",
    summary="The properties a filter may use (JSON Schema)",
    response_class=Response,
    responses={200: {"content": {SCHEMA_JSON: {"schema": {"type": "object"}}}}, **ERRORS},
    name="ogc_queryables",
)
def queryables(
    collectionId: str,  # noqa: N803
    request: Request,
    engine: EngineDep,
    viewer: ViewerDep,
    f: FormatParam = None,
) -> Response:
    """Property names, titles and types for ``filter``, ``sortby`` and ``name=value``."""
    with read_connection(engine) as conn:
        ref = _collection(conn, collectionId, viewer)
    href = f"{_base(request)}/collections/{ref.id}/queryables"
    return _json(queryables_doc(ref, href), SCHEMA_JSON)


@router.get(
    "/api",
    summary="The OGC API as an OpenAPI 3.0 document",
    response_class=Response,
    responses={200: {"content": {OPENAPI_JSON: {"schema": {"type": "object"}}}}},
    name="ogc_api",
)
def api_definition(
    request: Request, engine: EngineDep, viewer: ViewerDep, f: FormatParam = None
) -> Response:
    """OpenAPI 3.0 of ``/ogc``, with a path per collection listing its queryable properties
    as query parameters (GDAL then sends ``-where`` filters to the server)."""
    with read_connection(engine) as conn:
        refs = [
            ref for info in list_layers(conn, viewer) for ref in collections_of(conn, info, viewer)
        ]
    doc = openapi_document(
        _base(request),
        version=request.app.version,
        collections=[
            (ref.id, ref.title, queryable_types(ref.kind, ref.info.extra_fields), ref.kind)
            for ref in refs
        ],
        conformance=CONFORMANCE,
        page_max=page_max(request),
        filter_langs=FILTER_LANGS,
        area=request.app.state.work_area.in_text,
    )
    return _json(doc, OPENAPI_JSON)


# -- items -------------------------------------------------------------------------------


def parse_datetime(value: str | None) -> tuple[date | None, date | None] | None:
    """An RFC 3339 instant or interval (``a/b``, ``../b``, ``a/..``, open ends also empty) as a
    closed date interval. Dates may carry a trailing ``T`` (GDAL writes ``2030-01-01T``)."""
    if value is None or value.strip() == "":
        return None

    def one(text: str) -> date | None:
        text = text.strip()
        if text in ("", ".."):
            return None
        try:
            return parse_instant(text)
        except ValueError as exc:
            raise ApiError(
                400, f"datetime {value!r} is not an RFC 3339 date, date-time or interval"
            ) from exc

    parts = value.split("/")
    if len(parts) == 1:
        if parts[0].strip() == "..":
            raise ApiError(
                400, "datetime '..' is not an instant; use an interval such as ../2030-12-31"
            )
        d = one(parts[0])
        return (d, d)
    if len(parts) != 2:
        raise ApiError(400, f"datetime {value!r} is not an instant or an interval start/end")
    lo, hi = one(parts[0]), one(parts[1])
    if lo and hi and lo > hi:
        raise ApiError(400, f"datetime interval {value!r} ends before it starts")
    return (lo, hi)


def items_links(
    request: Request,
    href: str,
    offset: int,
    limit: int,
    returned: int,
    matched: int | None,
    last_key: tuple | None = None,
) -> list[dict[str, str]]:
    """self, alternate, collection and the paging links of an items page.

    ``next`` carries a keyset ``cursor`` (the page's last key: every page costs what the first
    does); ``prev`` exists for offset pages only (a cursor pages forward)."""
    url = request.url
    json_url = url.remove_query_params("f")
    paged_by_cursor = "cursor" in request.query_params
    links = [
        {"href": str(json_url), "rel": "self", "type": GEOJSON, "title": "deze pagina"},
        {
            "href": str(json_url.include_query_params(f="html")),
            "rel": "alternate",
            "type": HTML,
            "title": "deze pagina als HTML",
        },
        {"href": href, "rel": "collection", "type": JSON, "title": "de collectie"},
    ]
    more = returned == limit and (matched is None or offset + limit < matched)
    if more:
        nxt = (
            json_url.remove_query_params("offset").include_query_params(
                cursor=encode_cursor(last_key), limit=limit
            )
            if last_key is not None
            else json_url.include_query_params(offset=offset + limit, limit=limit)
        )
        links.append(
            {
                "href": str(nxt),
                "rel": "next",
                "type": GEOJSON,
                "title": "volgende pagina",
            }
        )
    if offset > 0 and not paged_by_cursor:
        links.append(
            {
                "href": str(
                    json_url.include_query_params(offset=max(offset - limit, 0), limit=limit)
                ),
                "rel": "prev",
                "type": GEOJSON,
                "title": "vorige pagina",
            }
        )
    return links


def _collection_text(head: dict[str, Any], features_json: str) -> str:
    text = json.dumps(head, ensure_ascii=False)
    return text[:-1] + ', "features": ' + features_json + "}"


def items_format(request: Request, f: str | None) -> str:
    """json, html, csv or geojsonseq: from ``f``, else from the Accept header."""
    if f:
        return f
    accept = request.headers.get("accept", "")
    if GEOJSON_SEQ in accept:
        return "geojsonseq"
    if CSV in accept and "json" not in accept:
        return "csv"
    return "html" if wants_html(request, None) else "json"


def parse_sortby(value: str | None) -> tuple[tuple[str, bool], ...]:
    """``sortby=naam,-bruto_ha`` (``+``/``-`` prefix; also ``naam:desc``) → (name, descending)."""
    if value is None or value.strip() == "":
        return ()
    out = []
    for part in value.split(","):
        part = part.strip()
        descending = False
        if part[:1] in "+-" and part:
            descending, part = part[0] == "-", part[1:].strip()
        elif ":" in part:
            part, _, way = part.partition(":")
            if way.strip().lower() not in ("asc", "desc", "a", "d"):
                raise ApiError(400, f"sortby: direction {way!r} is not asc or desc")
            descending = way.strip().lower() in ("desc", "d")
        if not part:
            raise ApiError(400, f"sortby {value!r} names no property")
        out.append((part, descending))
    if len(out) > 10:
        raise ApiError(400, "sortby takes at most 10 properties")
    return tuple(out)


def parse_properties(value: str | None) -> tuple[str, ...] | None:
    """``properties=naam,status`` → the names (empty: no properties; absent: all)."""
    if value is None:
        return None
    return tuple(p.strip() for p in value.split(",") if p.strip())


def parse_bool(value: str | None, name: str) -> bool:
    """``true``/``false`` (also 1/0) of a boolean query parameter; 400 otherwise."""
    if value is None or value == "":
        return False
    truth = value.strip().lower()
    if truth not in ("true", "false", "1", "0"):
        raise ApiError(400, f"{name} must be true or false; got {value!r}")
    return truth in ("true", "1")


def page_max(request: Request) -> int:
    """The largest page: ``RUIMTE_WEB_PAGE_MAX`` (the clamp of ``limit``)."""
    web = getattr(request.app.state, "web", None)
    return int(getattr(web, "page_max", LIMIT_MAX))


@router.get(
    "/collections/{collectionId}/items",
    summary="Features of a collection",
    response_model=FeatureCollection,
    response_class=Response,
    responses={
        200: {
            "content": {
                GEOJSON: {"schema": {"$ref": "#/components/schemas/FeatureCollection"}},
                HTML: {},
                CSV: {"schema": {"type": "string"}},
                GEOJSON_SEQ: {"schema": {"type": "string"}},
            }
        },
        **ERRORS,
    },
    name="ogc_items",
)
def items(
    collectionId: str,  # noqa: N803 - name from the standard
    request: Request,
    engine: EngineDep,
    viewer: ViewerDep,
    limit: Annotated[
        int,
        Query(ge=1, le=2**31 - 1, description="Features per page; above the maximum, the maximum."),
    ] = LIMIT_DEFAULT,
    offset: Annotated[
        int, Query(ge=0, le=10_000_000, description="Features to skip (the next links set it).")
    ] = 0,
    cursor: Annotated[
        str | None,
        Query(
            max_length=CURSOR_MAX_CHARS,
            description="Where the page starts: the next links set it (keyset paging).",
        ),
    ] = None,
    bbox: Annotated[
        str | None, Query(description="minx,miny,maxx,maxy in bbox-crs (default CRS84, lon/lat).")
    ] = None,
    bbox_crs: Annotated[
        str | None,
        Query(
            alias="bbox-crs", description="CRS of bbox: CRS84, EPSG:28992, EPSG:4258, EPSG:4326."
        ),
    ] = None,
    crs: Annotated[
        str | None,
        Query(description="Response CRS: CRS84 (default), EPSG:28992, EPSG:4258 or EPSG:4326."),
    ] = None,
    datetime_: Annotated[
        str | None,
        Query(
            alias="datetime",
            description="Date or interval (a/b, ../b, a/..) on the validity period "
            "(layers with time; on others every feature matches).",
        ),
    ] = None,
    filter_: Annotated[
        str | None,
        Query(alias="filter", description="A CQL2 filter (text or JSON, see filter-lang)."),
    ] = None,
    filter_lang: Annotated[
        str | None,
        Query(
            alias="filter-lang",
            pattern="^(" + "|".join(FILTER_LANGS) + ")$",
            description="cql2-text (default) or cql2-json.",
        ),
    ] = None,
    filter_crs: Annotated[
        str | None,
        Query(alias="filter-crs", description="CRS of the geometries in filter (default CRS84)."),
    ] = None,
    sortby: Annotated[
        str | None,
        Query(description="Properties to sort by, comma-separated; a leading - sorts descending."),
    ] = None,
    properties: Annotated[
        str | None, Query(description="Only these properties, comma-separated.")
    ] = None,
    skip_geometry: Annotated[
        str | None,
        Query(alias="skipGeometry", description="true: features without geometry."),
    ] = None,
    f: ItemsFormatParam = None,
) -> Response:
    """A page of features, filtered by bbox, datetime, property values (``?status=hard``) and
    CQL2 (``filter``)."""
    out = parse_output_crs(crs)
    box_crs = parse_output_crs(bbox_crs, "bbox-crs")
    box = parse_bbox(bbox, box_crs)
    interval = parse_datetime(datetime_)
    fcrs = parse_output_crs(filter_crs, "filter-crs")
    if fcrs.latlon:
        raise ApiError(400, "filter-crs: give geometries in CRS84 (lon/lat) or EPSG:28992")
    tree = parse_filter(filter_, filter_lang) if filter_ is not None else None
    if filter_ is None and filter_lang is not None:
        raise ApiError(400, "filter-lang without a filter")
    filters = {k: v for k, v in request.query_params.items() if k not in ITEMS_PARAMS}
    fmt = items_format(request, f)
    limit = min(limit, page_max(request))
    after = decode_cursor(cursor) if cursor is not None else None
    if after is not None and offset:
        raise ApiError(400, "give cursor or offset, not both (the next links carry a cursor)")
    with read_connection(engine) as conn:
        ref = _collection(conn, collectionId, viewer)
        info, kind = ref.info, ref.kind
        q = FeatureQuery(
            bbox=box,
            bbox_srid=box_crs.srid,
            filters=filters,
            limit=limit,
            offset=offset,
            after=after,
            out_srid=out.srid,
            latlon=out.latlon,
            decimals=out.decimals,
            interval=interval,
            cql=json.dumps(tree) if tree is not None else None,
            filter_srid=fcrs.srid,
            sortby=parse_sortby(sortby),
            properties=parse_properties(properties),
            skip_geometry=parse_bool(skip_geometry, "skipGeometry"),
            family=ref.family,
            viewer=viewer,
        )
        # numberMatched in the same statement (counted up to COUNT_MAX when the page does
        # not tell): one round trip less per page.
        page = query_features(conn, info, kind, q, count_cap=COUNT_MAX)
        matched = page.number_matched
        if uses_tile_geometry(q):  # once per layer version, in the background
            prepare_later(conn, info)
    href = f"{_base(request)}/collections/{ref.id}"
    head: dict[str, Any] = {
        "type": "FeatureCollection",
        "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if matched is not None:
        head["numberMatched"] = matched
    head["numberReturned"] = page.number_returned
    head["links"] = items_links(
        request, href, offset, limit, page.number_returned, matched, page.last_key
    )
    if fmt == "html":
        return _html(
            request,
            "ogc_items.html",
            info=info,
            kind=kind,
            head=head,
            features=json.loads(page.features_json),
            crs=out,
            collection_href=href,
        )
    headers = _crs_header(out)
    headers["Link"] = link_header(request, head["links"], fmt)
    if fmt in ("csv", "geojsonseq"):
        if matched is not None:
            headers["OGC-NumberMatched"] = str(matched)
        headers["OGC-NumberReturned"] = str(page.number_returned)
        features = json.loads(page.features_json)
        if fmt == "csv":
            names = list(q.properties) if q.properties is not None else None
            if names is None:
                names = list(queryable_types(kind, info.extra_fields))
            body = features_csv(features, names, with_geometry=not q.skip_geometry)
            return Response(body, media_type=f"{CSV}; charset=utf-8", headers=headers)
        return Response(features_seq(features), media_type=GEOJSON_SEQ, headers=headers)
    return Response(_collection_text(head, page.features_json), media_type=GEOJSON, headers=headers)


_FORMAT_TYPES = {"json": GEOJSON, "csv": CSV, "geojsonseq": GEOJSON_SEQ, "html": HTML}


def link_header(request: Request, links: list[dict[str, str]], fmt: str) -> str:
    """The page's links as an HTTP Link header (RFC 8288): self in this format, the other
    formats as alternates, and the paging links (commas in URLs percent-encoded)."""
    url = request.url.remove_query_params("f")
    out = []
    for other, media in _FORMAT_TYPES.items():
        href = str(url if other == "json" else url.include_query_params(f=other))
        rel = "self" if other == fmt else "alternate"
        out.append((href, rel, media))
    for link in links:
        if link["rel"] in ("next", "prev"):
            href = link["href"] if fmt == "json" else link["href"] + f"&f={fmt}"
            out.append((href, link["rel"], _FORMAT_TYPES[fmt]))
        elif link["rel"] == "collection":
            out.append((link["href"], "collection", JSON))
            out.append((link["href"] + "/queryables", REL_QUERYABLES, SCHEMA_JSON))
    return ", ".join(
        f'<{href.replace(",", "%2C")}>; rel="{rel}"; type="{media}"' for href, rel, media in out
    )


def features_csv(features: list[dict[str, Any]], names: list[str], with_geometry: bool) -> str:
    """Features as CSV: ``id``, the properties, and the geometry as WKT (column ``wkt``)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["id", *names, *(["wkt"] if with_geometry else [])])
    for feat in features:
        props = feat.get("properties") or {}
        row: list[Any] = [feat["id"]]
        for name in names:
            value = props.get(name)
            row.append("" if value is None else _csv_value(value))
        if with_geometry:
            geom = feat.get("geometry")
            row.append(shape(geom).wkt if geom else "")
        writer.writerow(row)
    return buf.getvalue()


def _csv_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    # A cell that a spreadsheet would run as a formula is quoted with a leading apostrophe.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def features_seq(features: list[dict[str, Any]]) -> str:
    """Features as a GeoJSON text sequence (RFC 8142): RS, the feature, LF."""
    return "".join("\x1e" + json.dumps(f, ensure_ascii=False) + "\n" for f in features)


def _crs_header(out: OutputCrs) -> dict[str, str]:
    return {"Content-Crs": f"<{out.uri}>"}


@router.get(
    "/collections/{collectionId}/items/{featureId}",
    summary="One feature",
    response_model=Feature,
    response_class=Response,
    responses={
        200: {"content": {GEOJSON: {"schema": {"$ref": "#/components/schemas/Feature"}}, HTML: {}}},
        **ERRORS,
    },
    name="ogc_item",
)
def item(
    collectionId: str,  # noqa: N803
    featureId: str,  # noqa: N803
    request: Request,
    engine: EngineDep,
    viewer: ViewerDep,
    crs: Annotated[
        str | None,
        Query(description="Response CRS: CRS84 (default), EPSG:28992, EPSG:4258 or EPSG:4326."),
    ] = None,
    f: FormatParam = None,
) -> Response:
    """One feature by its stable id (``fid``)."""
    out = parse_output_crs(crs)
    with read_connection(engine) as conn:
        ref = _collection(conn, collectionId, viewer)
        info, kind = ref.info, ref.kind
        # ASCII digits only: str.isdigit() is true for '4¹7', which int() cannot read.
        ok = featureId.isascii() and featureId.isdigit() and len(featureId) < 19
        fid = int(featureId) if ok and int(featureId) > 0 else None
        page = None
        if fid is not None:
            q = FeatureQuery(
                fid=fid,
                limit=1,
                out_srid=out.srid,
                latlon=out.latlon,
                decimals=out.decimals,
                family=ref.family,
                viewer=viewer,
            )
            page = query_features(conn, info, kind, q)
        current = (
            current_feature(conn, info.id, fid, info.name)
            if page is not None and page.number_returned
            else None
        )
    if page is None or current is None:
        raise ApiError(404, f"collection {collectionId!r} has no feature {featureId!r}")
    feature = json.loads(page.features_json)[0]
    href = f"{_base(request)}/collections/{ref.id}"
    self_url = request.url.remove_query_params("f")
    feature["links"] = [
        {"href": str(self_url), "rel": "self", "type": GEOJSON, "title": "dit object"},
        {
            "href": str(self_url.include_query_params(f="html")),
            "rel": "alternate",
            "type": HTML,
            "title": "dit object als HTML",
        },
        {"href": href, "rel": "collection", "type": JSON, "title": "de collectie"},
    ]
    if wants_html(request, f):
        return _html(
            request,
            "ogc_item.html",
            info=info,
            kind=kind,
            feature=feature,
            features=[feature],
            crs=out,
            collection_href=href,
        )
    # The ETag to send back as If-Match to replace or delete it (Part 4), as in the REST API.
    headers = {**_crs_header(out), "ETag": etag(fid, current.version_from)}
    return _json(feature, GEOJSON, headers)
