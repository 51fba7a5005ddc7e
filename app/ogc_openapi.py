"""The OpenAPI 3.0 document of the OGC API at ``/ogc/api`` (the landing page's ``service-desc``).

OGC API – Features Part 1 names OpenAPI 3.0 (conformance class ``oas30``), and its clients
read 3.0: GDAL, owslib and the ``ogctests`` suite. The app's own ``/openapi.json`` is
OpenAPI 3.1 (FastAPI's) and covers everything; this document covers ``/ogc`` alone, relative
to its ``servers`` URL, and is built per request for the collections the reader may see. Each
collection gets its own items path whose parameters include every queryable property
(``/collections/reserveringen/items?status=hard``): GDAL's OAPIF driver looks there to decide
which ``-where`` parts it may send to the server. The schemas are written for 3.0 by hand
(3.0 has no ``type: null``, ``const`` or ``$defs``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from layers.kinds import Kind

OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"
GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
PROBLEM_JSON = "application/problem+json"

#: Query parameters of the items path, by component name (and parameter name).
ITEMS_PARAMETERS = (
    "f-items",
    "limit",
    "offset",
    "cursor",
    "bbox",
    "bbox-crs",
    "crs",
    "datetime",
    "filter",
    "filter-lang",
    "filter-crs",
    "sortby",
    "properties",
    "skipGeometry",
)
#: Names that a property parameter may not take (they mean something else on items).
RESERVED = {"f", *ITEMS_PARAMETERS}
_JSON_TYPES = {"integer": "integer", "number": "number", "boolean": "boolean"}


def property_schema(ftype: str, spec: Any = None) -> dict[str, Any]:
    """Schema (JSON Schema and OpenAPI 3.0 alike) of a property of field type ``ftype``."""
    out: dict[str, Any] = {"type": _JSON_TYPES.get(ftype, "string")}
    if ftype == "date":
        out["format"] = "date"
    if spec is not None and getattr(spec, "values", None):
        out["enum"] = list(spec.values)
    return out


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "style": "form",
        "explode": False,
        "description": description,
        "schema": schema,
    }


def _parameters(page_max: int, filter_langs: Sequence[str]) -> dict[str, Any]:
    crs = {"type": "string", "format": "uri"}
    return {
        "collectionId": {
            "name": "collectionId",
            "in": "path",
            "required": True,
            "description": "The collection (layer) name.",
            "schema": {"type": "string"},
        },
        "featureId": {
            "name": "featureId",
            "in": "path",
            "required": True,
            "description": "The stable feature id.",
            "schema": {"type": "string"},
        },
        "f": _query("f", {"type": "string", "enum": ["json", "html"]}, "json or html."),
        "f-items": _query(
            "f",
            {"type": "string", "enum": ["json", "html", "csv", "geojsonseq"]},
            "json (GeoJSON), html, csv or geojsonseq (RFC 8142).",
        ),
        "limit": _query(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": page_max, "default": 10},
            f"Features per page; a larger limit gets {page_max}.",
        ),
        "offset": _query(
            "offset",
            {"type": "integer", "minimum": 0, "default": 0},
            "Features to skip (the next links set it).",
        ),
        "cursor": _query(
            "cursor",
            {"type": "string", "maxLength": 2000},
            "Where the page starts: the next links set it (keyset paging).",
        ),
        "bbox": _query(
            "bbox",
            {
                "type": "array",
                "minItems": 4,
                "maxItems": 6,
                "items": {"type": "number"},
            },
            "minx,miny,maxx,maxy in bbox-crs (default CRS84).",
        ),
        "bbox-crs": _query("bbox-crs", crs, "CRS of bbox."),
        "crs": _query("crs", crs, "CRS of the response geometries."),
        "datetime": _query(
            "datetime",
            {"type": "string"},
            "A date, date-time or interval (a/b, ../b, a/..) on the validity period; "
            "every feature matches on collections without time.",
        ),
        "filter": _query("filter", {"type": "string"}, "A CQL2 filter (see filter-lang)."),
        "filter-lang": _query(
            "filter-lang",
            {"type": "string", "enum": list(filter_langs), "default": "cql2-text"},
            "cql2-text (default) or cql2-json (cql-text: CQL2 text as GDAL 3.6 names it).",
        ),
        "filter-crs": _query("filter-crs", crs, "CRS of the geometries in filter."),
        "sortby": _query(
            "sortby",
            {"type": "array", "items": {"type": "string"}},
            "Properties to sort by; a leading - sorts descending.",
        ),
        "properties": _query(
            "properties",
            {"type": "array", "items": {"type": "string"}},
            "Only these properties.",
        ),
        "skipGeometry": _query(
            "skipGeometry", {"type": "boolean", "default": False}, "Features without geometry."
        ),
    }


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


_LINK = {
    "type": "object",
    "required": ["href", "rel"],
    "properties": {
        "href": {"type": "string"},
        "rel": {"type": "string"},
        "type": {"type": "string"},
        "title": {"type": "string"},
        "hreflang": {"type": "string"},
    },
}
_LINKS = {"type": "array", "items": _ref("schemas", "link")}
_SCHEMAS: dict[str, Any] = {
    "link": _LINK,
    "landingPage": {
        "type": "object",
        "required": ["links"],
        "properties": {
            "title": {"type": "string"},
            "description": {"type": "string"},
            "links": _LINKS,
        },
    },
    "confClasses": {
        "type": "object",
        "required": ["conformsTo"],
        "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
    },
    "extent": {
        "type": "object",
        "properties": {
            "spatial": {
                "type": "object",
                "properties": {
                    "bbox": {
                        "type": "array",
                        "items": {"type": "array", "items": {"type": "number"}},
                    },
                    "crs": {"type": "string"},
                },
            },
            "temporal": {
                "type": "object",
                "properties": {
                    "interval": {
                        "type": "array",
                        "items": {
                            "type": "array",
                            "items": {"type": "string", "nullable": True},
                        },
                    },
                    "trs": {"type": "string"},
                },
            },
        },
    },
    "collection": {
        "type": "object",
        "required": ["id", "links"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "links": _LINKS,
            "extent": _ref("schemas", "extent"),
            "itemType": {"type": "string"},
            "crs": {"type": "array", "items": {"type": "string"}},
            "storageCrs": {"type": "string"},
        },
    },
    "collections": {
        "type": "object",
        "required": ["links", "collections"],
        "properties": {
            "links": _LINKS,
            "collections": {"type": "array", "items": _ref("schemas", "collection")},
            "crs": {"type": "array", "items": {"type": "string"}},
        },
    },
    "geometryGeoJSON": {
        "type": "object",
        "required": ["type"],
        "nullable": True,
        "properties": {
            "type": {
                "type": "string",
                "enum": [
                    "Point",
                    "MultiPoint",
                    "LineString",
                    "MultiLineString",
                    "Polygon",
                    "MultiPolygon",
                    "GeometryCollection",
                ],
            },
            "coordinates": {"type": "array", "items": {}},
            "geometries": {"type": "array", "items": {"type": "object"}},
        },
    },
    "featureGeoJSON": {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            "geometry": _ref("schemas", "geometryGeoJSON"),
            "properties": {"type": "object", "nullable": True},
            "links": _LINKS,
        },
    },
    "featureCollectionGeoJSON": {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": _ref("schemas", "featureGeoJSON")},
            "links": _LINKS,
            "timeStamp": {"type": "string", "format": "date-time"},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0},
        },
    },
    "exception": {
        "type": "object",
        "description": "An error (RFC 9457 problem details).",
        "required": ["title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object"}},
        },
    },
}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": _ref("schemas", "exception")}},
    }


_RESPONSES: dict[str, Any] = {
    "InvalidParameter": _error("A query parameter is invalid or unknown."),
    "NotFound": _error("No such collection or feature (or not visible to the caller)."),
    "ServerError": _error("The database is unreachable or the request took too long."),
    "Features": {
        "description": "A page of features (GeoJSON, HTML, CSV or a GeoJSON text sequence).",
        "content": {
            GEOJSON: {"schema": _ref("schemas", "featureCollectionGeoJSON")},
            HTML: {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
            "application/geo+json-seq": {"schema": {"type": "string"}},
        },
    },
}


def _op(
    summary: str,
    operation_id: str,
    ok: dict[str, Any],
    parameters: list[dict[str, Any]],
    errors: Sequence[str] = ("InvalidParameter", "ServerError"),
) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": ok}
    for name in errors:
        code = {"InvalidParameter": "400", "NotFound": "404", "ServerError": "503"}[name]
        responses[code] = _ref("responses", name)
    return {
        "get": {
            "summary": summary,
            "operationId": operation_id,
            "tags": ["OGC API – Features"],
            "parameters": parameters,
            "responses": responses,
        }
    }


def _doc(description: str, media: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": description,
        "content": {media: {"schema": schema}, HTML: {"schema": {"type": "string"}}},
    }


def _items_parameters() -> list[dict[str, Any]]:
    return [_ref("parameters", p) for p in ITEMS_PARAMETERS]


_WRITE_ERRORS = {
    "400": "The body is not JSON, or a parameter is invalid.",
    "401": "No valid bearer token.",
    "403": "The caller's role may not edit this feature (or not there).",
    "404": "No such collection or feature.",
    "409": "The layer cannot be edited (derived by a scenario run).",
    "413": "The body is too large.",
    "415": "The body is not JSON.",
    "422": "The feature fails the checks; errors lists every problem.",
    "429": "Too many writes; Retry-After says when to try again.",
}


def _write_op(
    summary: str, op_id: str, ok: dict[str, Any], params: list, body: bool, if_match: bool
) -> dict[str, Any]:
    responses: dict[str, Any] = {"200" if not ok.get("_code") else ok.pop("_code"): ok}
    for code, text in _WRITE_ERRORS.items():
        responses[code] = _error(text)
    if if_match:
        responses["412"] = _error("If-Match does not match the feature's current ETag.")
        responses["428"] = _error("If-Match is required.")
        params = [
            *params,
            {
                "name": "If-Match",
                "in": "header",
                "required": True,
                "description": "The ETag of the feature as read.",
                "schema": {"type": "string"},
            },
        ]
    op: dict[str, Any] = {
        "summary": summary,
        "operationId": op_id,
        "tags": ["OGC API – Features – Part 4"],
        "parameters": params,
        "responses": responses,
        "security": [{"bearer": []}],
    }
    if body:
        op["requestBody"] = {
            "required": True,
            "content": {
                GEOJSON: {"schema": _ref("schemas", "featureGeoJSON")},
                JSON: {"schema": _ref("schemas", "featureGeoJSON")},
            },
        }
    return op


def _add_writes(paths: dict[str, Any], cid: dict[str, str], fid: dict[str, str]) -> None:
    """Part 4: create on the items path, replace and delete on an item."""
    created = {
        "_code": "201",
        "description": "Created; Location names the new feature, ETag its state.",
        "content": {JSON: {"schema": {"type": "object"}}},
    }
    replaced = {
        "description": "Replaced; ETag is its new state.",
        "content": {JSON: {"schema": {"type": "object"}}},
    }
    paths["/collections/{collectionId}/items"]["post"] = _write_op(
        "Create a feature", "createFeature", created, [cid], True, False
    )
    item = paths["/collections/{collectionId}/items/{featureId}"]
    item["put"] = _write_op("Replace a feature", "replaceFeature", replaced, [cid, fid], True, True)
    item["delete"] = _write_op(
        "Delete a feature",
        "deleteFeature",
        {"_code": "204", "description": "Deleted (the history keeps it)."},
        [cid, fid],
        False,
        True,
    )


def _add_tiles_and_styles(
    paths: dict[str, Any], cid: dict[str, str], f: dict[str, str], not_found: Sequence[str]
) -> None:
    """OGC API – Tiles (tile matrix sets, tilesets, tiles) and the MapLibre styles."""
    tms = {
        "name": "tileMatrixSetId",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": ["WebMercatorQuad", "NetherlandsRDNewQuad"]},
    }
    index = [
        {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
        for n in ("tileMatrix", "tileRow", "tileCol")
    ]
    obj = {"type": "object"}
    paths["/tileMatrixSets"] = _op(
        "The tile matrix sets", "getTileMatrixSetsList", _doc("Tiling schemes.", JSON, obj), [f]
    )
    paths["/tileMatrixSets/{tileMatrixSetId}"] = _op(
        "A tile matrix set",
        "getTileMatrixSet",
        _doc("OGC TMS 2.0 JSON.", JSON, obj),
        [tms],
        not_found,
    )
    paths["/collections/{collectionId}/tiles"] = _op(
        "The tilesets of a collection",
        "getCollectionTilesets",
        _doc("Tilesets.", JSON, obj),
        [cid],
        not_found,
    )
    paths["/collections/{collectionId}/tiles/{tileMatrixSetId}"] = _op(
        "A tileset",
        "getCollectionTileset",
        _doc("Tileset metadata.", JSON, obj),
        [cid, tms],
        not_found,
    )
    paths["/collections/{collectionId}/tiles/{tileMatrixSetId}/tilejson"] = _op(
        "TileJSON of a tileset",
        "getCollectionTileJSON",
        {
            "description": "TileJSON 3.0",
            "content": {"application/vnd.mapbox.tile+json": {"schema": obj}},
        },
        [cid, tms],
        not_found,
    )
    paths[
        "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"
    ] = _op(
        "A vector tile",
        "getCollectionTile",
        {
            "description": "A Mapbox Vector Tile.",
            "content": {
                "application/vnd.mapbox-vector-tile": {
                    "schema": {"type": "string", "format": "binary"}
                }
            },
        },
        [cid, tms, *index],
        not_found,
    )
    paths["/styles"] = _op("The map styles", "getStyles", _doc("Styles.", JSON, obj), [])
    paths["/styles/{styleId}"] = _op(
        "A MapLibre style",
        "getStyle",
        {
            "description": "MapLibre style",
            "content": {"application/vnd.mapbox.style+json": {"schema": obj}},
        },
        [{"name": "styleId", "in": "path", "required": True, "schema": {"type": "string"}}],
        not_found,
    )


def openapi_document(
    base: str,
    *,
    version: str,
    collections: Sequence[tuple[str, str, dict[str, str], Kind]],
    conformance: Sequence[str],
    page_max: int,
    filter_langs: Sequence[str],
    area: str,
) -> dict[str, Any]:
    """The OpenAPI 3.0 document of ``/ogc`` at ``base`` (its ``servers`` URL).

    ``collections`` holds (name, title, property name → field type, kind) of every
    collection the reader may see; ``area`` names the work area in running text
    (``de provincie Gelderland``).
    """
    f = _ref("parameters", "f")
    cid = _ref("parameters", "collectionId")
    fid = _ref("parameters", "featureId")
    crs = _ref("parameters", "crs")
    not_found = ("InvalidParameter", "NotFound", "ServerError")
    paths: dict[str, Any] = {
        "/": _op(
            "Landing page",
            "getLandingPage",
            _doc("Links to the API parts.", JSON, _ref("schemas", "landingPage")),
            [f],
        ),
        "/conformance": _op(
            "Conformance declaration",
            "getConformanceDeclaration",
            _doc("The conformance classes implemented.", JSON, _ref("schemas", "confClasses")),
            [f],
        ),
        "/api": _op(
            "This API definition",
            "getAPIDefinition",
            {"description": "OpenAPI 3.0", "content": {OPENAPI_30: {"schema": {"type": "object"}}}},
            [f],
        ),
        "/collections": _op(
            "The collections (layers)",
            "getCollections",
            _doc("Every collection the caller may see.", JSON, _ref("schemas", "collections")),
            [f],
        ),
        "/collections/{collectionId}": _op(
            "A collection",
            "describeCollection",
            _doc("The collection.", JSON, _ref("schemas", "collection")),
            [cid, f],
            not_found,
        ),
        "/collections/{collectionId}/queryables": _op(
            "The properties a filter may use",
            "getQueryables",
            {
                "description": "JSON Schema of the queryable properties.",
                "content": {"application/schema+json": {"schema": {"type": "object"}}},
            },
            [cid, f],
            not_found,
        ),
        "/collections/{collectionId}/items": _op(
            "Features of a collection",
            "getFeatures",
            _ref("responses", "Features"),
            [cid, *_items_parameters()],
            not_found,
        ),
        "/collections/{collectionId}/items/{featureId}": _op(
            "One feature",
            "getFeature",
            _doc("The feature.", GEOJSON, _ref("schemas", "featureGeoJSON")),
            [cid, fid, crs, f],
            not_found,
        ),
    }
    _add_writes(paths, cid, fid)
    _add_tiles_and_styles(paths, cid, f, not_found)
    for name, title, types, kind in collections:
        params = list(_items_parameters())
        for prop, ftype in types.items():
            if prop in RESERVED:
                continue
            spec = kind.fields.get(prop)
            label = spec.label if spec else prop
            params.append(
                _query(prop, property_schema(ftype, spec), f"{label}: features with this value.")
            )
        op = _op(
            f"Features of {title}",
            f"getFeatures_{name}",
            _ref("responses", "Features"),
            params,
            not_found,
        )
        op["get"]["tags"] = [name]
        paths[f"/collections/{name}/items"] = op
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Ruimte Circulair – OGC API – Features",
            "version": version,
            "description": f"Kaartlagen van de circulaire economie in {area} "
            "(OGC API – Features Part 1, 2 and 3). Conformance: " + ", ".join(conformance),
            "license": {"name": "EUPL-1.2", "url": "https://eupl.eu/1.2/en/"},
        },
        "servers": [{"url": base}],
        "paths": paths,
        "components": {
            "parameters": _parameters(page_max, filter_langs),
            "schemas": _SCHEMAS,
            "responses": _RESPONSES,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
