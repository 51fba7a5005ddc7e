"""OGC API – Features at ``/ogc``: Part 1 (Core, GeoJSON, HTML) and Part 2 (CRS by reference).

One collection per layer the caller may see. Items come from :func:`layers.query.query_features`
(GeoJSON made by PostGIS), so the API, the maps, the tiles and this service apply one
visibility rule. CRS84 is the default; ``crs`` and ``bbox-crs`` take CRS84, EPSG:28992
(RD New, the storage CRS) and EPSG:4258/4326 (lat/lon axis order). ``numberMatched`` is
given when it is cheap: exact when the page is the last, else from a count that stops
after ``count_max`` rows (omitted above it). HTML pages are in Dutch.

Conformance classes are declared here, beside the code that implements them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
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
from app.reads import read_connection
from layers.access import Viewer
from layers.collections import current_layer, lonlat_bbox, temporal_extent
from layers.kinds import Kind, load_kinds
from layers.query import FeatureQuery, count_features, query_features
from layers.store import LayerInfo, list_layers

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.1"

# -- conformance: Part 1 (core, GeoJSON, HTML) -------------------------------------------
CONF_CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
CONF_GEOJSON = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"
CONF_HTML = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html"
# -- conformance: Part 2 (crs and bbox-crs parameters, Content-Crs, storageCrs) ----------
CONF_CRS = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"
CONFORMANCE = [CONF_CORE, CONF_GEOJSON, CONF_HTML, CONF_CRS]

#: The CRSs offered for every collection (Part 2): CRS84 first, the default.
SUPPORTED_CRS_URIS = [CRS84_URI, RD_URI, ETRS89_URI, WGS84_URI]
#: Query parameters of ``items`` that are not property filters.
ITEMS_PARAMS = {"f", "limit", "offset", "bbox", "bbox-crs", "crs", "datetime"}
LIMIT_DEFAULT = 10
LIMIT_MAX = 10_000
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
    "", summary="Landing page", response_model=LandingPage, responses={200: {"content": {HTML: {}}}}
)
def landing(request: Request, f: FormatParam = None) -> Response:
    """Links to the API description, the conformance declaration and the collections."""
    base = _base(request)
    root = str(request.base_url).rstrip("/")
    doc = {
        "title": "Ruimte Circulair – kaartlagen (OGC API – Features)",
        "description": "Kaartlagen van de circulaire economie in de provincie Utrecht: "
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
                "href": f"{root}/openapi.json",
                "rel": "service-desc",
                "type": OPENAPI_JSON,
                "title": "API-beschrijving (OpenAPI)",
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


def collection_doc(conn: Connection, info: LayerInfo, base: str, viewer: Viewer) -> dict[str, Any]:
    """The collection document of a layer (extent in CRS84, storage CRS, links)."""
    kind = load_kinds()[info.kind]
    href = f"{base}/collections/{info.name}"
    doc: dict[str, Any] = {
        "id": info.name,
        "title": info.title,
        "description": info.description or kind.title,
        "itemType": "feature",
        "crs": SUPPORTED_CRS_URIS,
        "storageCrs": RD_URI,
        "links": [
            {"href": href, "rel": "self", "type": JSON, "title": info.title},
            {
                "href": f"{href}?f=html",
                "rel": "alternate",
                "type": HTML,
                "title": f"{info.title} (HTML)",
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
    times = temporal_extent(conn, info, kind, FeatureQuery(viewer=viewer))
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
        docs = [collection_doc(conn, info, base, viewer) for info in list_layers(conn, viewer)]
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


def _layer(conn: Connection, collection_id: str, viewer: Viewer) -> tuple[LayerInfo, Kind]:
    info = current_layer(conn, collection_id, viewer)
    return info, load_kinds()[info.kind]


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
        info, _ = _layer(conn, collectionId, viewer)
        doc = collection_doc(conn, info, _base(request), viewer)
    if wants_html(request, f):
        return _html(request, "ogc_collection.html", doc=doc)
    return _json(doc)


# -- items -------------------------------------------------------------------------------


def parse_datetime(value: str | None) -> tuple[date | None, date | None] | None:
    """An RFC 3339 instant or interval (``a/b``, ``../b``, ``a/..``) as a closed date interval."""
    if value is None or value.strip() == "":
        return None

    def one(text: str) -> date | None:
        text = text.strip()
        if text in ("", ".."):
            return None
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            return datetime.fromisoformat(text.replace("z", "Z")).astimezone(UTC).date()
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
    request: Request, href: str, offset: int, limit: int, returned: int, matched: int | None
) -> list[dict[str, str]]:
    """self, alternate, collection and the paging links of an items page."""
    url = request.url
    json_url = url.remove_query_params("f")
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
        links.append(
            {
                "href": str(json_url.include_query_params(offset=offset + limit, limit=limit)),
                "rel": "next",
                "type": GEOJSON,
                "title": "volgende pagina",
            }
        )
    if offset > 0:
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


def number_matched(
    conn: Connection, info: LayerInfo, kind: Kind, q: FeatureQuery, returned: int
) -> int | None:
    """Exact when this page is the last one, else a bounded count (None above ``COUNT_MAX``)."""
    if returned < q.limit and (returned > 0 or q.offset == 0):
        return q.offset + returned
    return count_features(conn, info, kind, q, COUNT_MAX)


def _collection_text(head: dict[str, Any], features_json: str) -> str:
    text = json.dumps(head, ensure_ascii=False)
    return text[:-1] + ', "features": ' + features_json + "}"


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
        int, Query(ge=1, le=LIMIT_MAX, description="Features per page.")
    ] = LIMIT_DEFAULT,
    offset: Annotated[
        int, Query(ge=0, le=10_000_000, description="Features to skip (the next links set it).")
    ] = 0,
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
            "(layers with time).",
        ),
    ] = None,
    f: FormatParam = None,
) -> Response:
    """A page of features, filtered by bbox, datetime and property values (``?status=hard``)."""
    out = parse_output_crs(crs)
    box_crs = parse_output_crs(bbox_crs, "bbox-crs")
    box = parse_bbox(bbox, box_crs)
    interval = parse_datetime(datetime_)
    filters = {k: v for k, v in request.query_params.items() if k not in ITEMS_PARAMS}
    html = wants_html(request, f)
    with read_connection(engine) as conn:
        info, kind = _layer(conn, collectionId, viewer)
        q = FeatureQuery(
            bbox=box,
            bbox_srid=box_crs.srid,
            filters=filters,
            limit=limit,
            offset=offset,
            out_srid=out.srid,
            latlon=out.latlon,
            decimals=out.decimals,
            interval=interval,
            viewer=viewer,
        )
        page = query_features(conn, info, kind, q)
        matched = number_matched(conn, info, kind, q, page.number_returned)
    href = f"{_base(request)}/collections/{info.name}"
    head: dict[str, Any] = {
        "type": "FeatureCollection",
        "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if matched is not None:
        head["numberMatched"] = matched
    head["numberReturned"] = page.number_returned
    head["links"] = items_links(request, href, offset, limit, page.number_returned, matched)
    if html:
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
    return Response(
        _collection_text(head, page.features_json), media_type=GEOJSON, headers=_crs_header(out)
    )


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
        info, kind = _layer(conn, collectionId, viewer)
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
                viewer=viewer,
            )
            page = query_features(conn, info, kind, q)
    if page is None or page.number_returned == 0:
        raise ApiError(404, f"collection {collectionId!r} has no feature {featureId!r}")
    feature = json.loads(page.features_json)[0]
    href = f"{_base(request)}/collections/{info.name}"
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
    return _json(feature, GEOJSON, _crs_header(out))
