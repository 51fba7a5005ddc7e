"""``/api/layers``: the catalogue, features as GeoJSON, feature writes and downloads."""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import shapely
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from sqlalchemy import Connection
from starlette.background import BackgroundTask

from app.auth import AuthError, Principal, check_feature_edit, require_province
from app.dependencies import (
    CRS84_URI,
    AuthSettingsDep,
    EngineDep,
    JsonBodyDep,
    OutputCrs,
    PagingDep,
    ViewerDep,
    WriterDep,
    parse_bbox,
    parse_output_crs,
)
from app.errors import ApiError
from app.settings import import_policy
from layers.edit import (
    EditResult,
    create_feature,
    current_feature,
    delete_feature,
    etag,
    feature_history,
    replace_feature,
    restore_feature,
)
from layers.exporter import EXPORT_FORMATS, MEDIA_TYPES, SUFFIXES, export_layer
from layers.importer import PrepareOptions, frame_source, prepare
from layers.kinds import Kind, load_kinds
from layers.query import FeatureQuery, query_features
from layers.store import LayerInfo, get_layer, list_layers, set_layer_meta
from spatial.crs import parse_crs

router = APIRouter(prefix="/api/layers", tags=["layers"])

GEOJSON = "application/geo+json"
#: Query parameters of the features endpoint that are not property filters.
RESERVED_PARAMS = {
    "bbox",
    "bbox-crs",
    "crs",
    "limit",
    "offset",
    "gemeente",
    "simplify",
    "version",
    "f",
}


def _layer_doc(info: LayerInfo, request: Request) -> dict[str, Any]:
    kind = load_kinds()[info.kind]
    base = str(request.url_for("layer_metadata", name=info.name))
    doc = info.as_dict()
    doc["kind_title"] = kind.title
    doc["fields"] = [
        {
            "name": f.name,
            "type": f.type,
            "label": f.label,
            "required": f.required,
            **({"values": dict(f.values)} if f.values else {}),
        }
        for f in kind.fields.values()
    ] + [
        {"name": n, "type": t, "label": n, "required": False} for n, t in info.extra_fields.items()
    ]
    doc["links"] = [
        {"rel": "self", "href": base, "type": "application/json"},
        {"rel": "items", "href": f"{base}/features", "type": GEOJSON},
        *(
            {
                "rel": "enclosure",
                "href": f"{base}/download?format={fmt}",
                "type": MEDIA_TYPES[fmt],
                "title": fmt,
            }
            for fmt in EXPORT_FORMATS
        ),
    ]
    return doc


@router.get("", summary="List the layers")
def layers_index(engine: EngineDep, request: Request, viewer: ViewerDep) -> dict[str, Any]:
    """Every layer the caller may see, with kind, version, feature count, extent (RD) and provenance."""
    with engine.connect() as conn:
        infos = list_layers(conn, viewer)
    return {"layers": [_layer_doc(i, request) for i in infos]}


@router.get("/{name}", summary="Layer metadata", name="layer_metadata")
def layer_metadata(
    name: str,
    engine: EngineDep,
    request: Request,
    viewer: ViewerDep,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    """Metadata of one layer: fields with Dutch labels, provenance, versions, links."""
    with engine.connect() as conn:
        info = get_layer(conn, name, version, viewer)
    return _layer_doc(info, request)


@router.patch("/{name}", summary="Publish, unpublish or retitle a layer")
def patch_layer(
    name: str, body: JsonBodyDep, engine: EngineDep, request: Request, who: WriterDep
) -> dict[str, Any]:
    """Change ``published``, ``title`` or ``description`` (the province only)."""
    try:
        require_province(who, "publish or change layers")
    except AuthError as exc:
        raise ApiError(exc.status, exc.message) from exc
    try:
        doc = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from exc
    allowed = {"published": bool, "title": str, "description": str}
    errors = (
        [{"field": k, "message": "unknown field"} for k in doc if k not in allowed]
        if isinstance(doc, dict)
        else []
    )
    errors += [
        {"field": k, "message": f"must be a {t.__name__}"}
        for k, t in allowed.items()
        if isinstance(doc, dict) and k in doc and not isinstance(doc[k], t)
    ]
    if not isinstance(doc, dict) or errors:
        raise ApiError(
            422, "send an object with published, title and/or description", errors=errors or None
        )
    with engine.begin() as conn:
        info = set_layer_meta(conn, name, **doc)
    return _layer_doc(info, request)


def _filters(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k not in RESERVED_PARAMS}


def feature_collection(
    page_json: str, returned: int, links: list[dict[str, str]], extra: dict[str, Any] | None = None
) -> str:
    """A FeatureCollection document around a features array built by PostGIS."""
    head = {
        "type": "FeatureCollection",
        "numberReturned": returned,
        **(extra or {}),
        "links": links,
    }
    text = json.dumps(head, ensure_ascii=False)
    return text[:-1] + ', "features": ' + page_json + "}"


@router.get(
    "/{name}/features",
    summary="Features as GeoJSON",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}, "description": "A GeoJSON FeatureCollection"}},
)
def layer_features(
    name: str,
    engine: EngineDep,
    request: Request,
    paging: PagingDep,
    viewer: ViewerDep,
    bbox: Annotated[
        str | None, Query(description="minx,miny,maxx,maxy in bbox-crs (default CRS84).")
    ] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs")] = None,
    crs: Annotated[
        str | None, Query(description="Output CRS URI: CRS84 (default) or EPSG:28992, EPSG:4258.")
    ] = None,
    gemeente: Annotated[
        str | None, Query(pattern=r"^GM\d{4}$", description="Statcode of the owning gemeente.")
    ] = None,
    simplify: Annotated[
        float | None, Query(ge=0, le=1000, description="Simplify by this many metres.")
    ] = None,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Features of a layer, filtered by bbox, gemeente and property values (``?status=hard``), paged."""
    out = parse_output_crs(crs)
    box_crs = parse_output_crs(bbox_crs, "bbox-crs")
    box = parse_bbox(bbox, box_crs)
    with engine.connect() as conn:
        info = get_layer(conn, name, version, viewer, with_versions=False)
        kind = load_kinds()[info.kind]
        q = FeatureQuery(
            bbox=box,
            bbox_srid=box_crs.srid,
            gemeente=gemeente,
            filters=_filters(request),
            limit=paging.limit,
            offset=paging.offset,
            out_srid=out.srid,
            latlon=out.latlon,
            decimals=out.decimals,
            simplify=simplify or None,
            version=version,
            viewer=viewer,
        )
        page = query_features(conn, info, kind, q)
    links = [{"rel": "self", "href": str(request.url), "type": GEOJSON}]
    if page.number_returned == paging.limit:
        nxt = request.url.include_query_params(
            offset=paging.offset + paging.limit, limit=paging.limit
        )
        links.append({"rel": "next", "href": str(nxt), "type": GEOJSON})
    if paging.offset > 0:
        prev = request.url.include_query_params(
            offset=max(paging.offset - paging.limit, 0), limit=paging.limit
        )
        links.append({"rel": "prev", "href": str(prev), "type": GEOJSON})
    body = feature_collection(
        page.features_json, page.number_returned, links, {"layer": name, "version": info.version}
    )
    return Response(body, media_type=GEOJSON, headers={"Content-Crs": f"<{out.uri}>"})


@router.get(
    "/{name}/features/{fid}",
    summary="One feature as GeoJSON",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}}},
)
def layer_feature(
    name: str,
    fid: int,
    engine: EngineDep,
    viewer: ViewerDep,
    crs: Annotated[str | None, Query()] = None,
) -> Response:
    """One feature by its stable id, with an ``ETag`` to send back as ``If-Match`` when changing it."""
    out = parse_output_crs(crs)
    with engine.connect() as conn:
        info = get_layer(conn, name, viewer=viewer, with_versions=False)
        kind = load_kinds()[info.kind]
        q = FeatureQuery(
            fid=fid,
            limit=1,
            out_srid=out.srid,
            latlon=out.latlon,
            decimals=out.decimals,
            viewer=viewer,
        )
        page = query_features(conn, info, kind, q)
        if page.number_returned == 0:
            raise ApiError(404, f"layer {name!r} has no feature {fid}")
        current = current_feature(conn, info.id, fid, name)
    body = page.features_json.strip()[1:-1]
    if current.draft:
        body = body[:-1] + ', "draft": true}'
    return Response(
        body,
        media_type=GEOJSON,
        headers={"Content-Crs": f"<{out.uri}>", "ETag": etag(fid, current.version_from)},
    )


def _input_crs(request: Request, crs: str | None) -> OutputCrs:
    header = request.headers.get("content-crs", "").strip().strip("<>")
    return parse_output_crs(crs or header or CRS84_URI)


@dataclass(frozen=True)
class CheckedFeature:
    """A feature from a request body that passed every check."""

    geometry: shapely.Geometry
    attributes: dict[str, Any]
    gemeente: str | None
    draft: bool


def checked_feature(body: bytes, info: LayerInfo, kind: Kind, in_crs: OutputCrs) -> CheckedFeature:
    """Parse a GeoJSON Feature and check it exactly like a file import (422 listing every problem).

    A top-level ``"draft": true`` member makes it a draft (concept), seen only by its
    gemeente and the province.
    """
    try:
        doc = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("type") != "Feature":
        raise ApiError(
            422,
            'the body must be a GeoJSON Feature ({"type": "Feature", "geometry": …, "properties": …})',
        )
    props = doc.get("properties") or {}
    draft = doc.get("draft", False)
    if not isinstance(draft, bool):
        raise ApiError(
            422,
            "draft must be true or false",
            errors=[{"field": "draft", "message": "not a boolean"}],
        )
    if not isinstance(props, dict):
        raise ApiError(
            422,
            "properties must be an object",
            errors=[{"field": "properties", "message": "not an object"}],
        )
    unknown = sorted(set(props) - set(kind.fields) - set(info.extra_fields))
    if unknown:
        raise ApiError(
            422,
            f"unknown field(s) for layer {info.name!r}: {', '.join(unknown)}",
            errors=[
                {
                    "field": f,
                    "message": f"layer {info.name!r} (kind {kind.name}) has no field {f!r}",
                }
                for f in unknown
            ],
        )
    try:
        geom = shapely.geometry.shape(doc.get("geometry")) if doc.get("geometry") else None
    except (ValueError, TypeError, AttributeError, KeyError, shapely.errors.GEOSException) as exc:
        raise ApiError(
            422,
            f"the geometry cannot be read: {exc}",
            errors=[{"field": "geometry", "message": f"unreadable geometry: {exc}"}],
        ) from exc
    if geom is not None and in_crs.latlon:
        geom = shapely.ops.transform(lambda x, y, z=None: (y, x), geom)
    frame = pd.DataFrame([{k: v for k, v in props.items()}])
    source = frame_source(frame, np.array([geom], dtype=object), parse_crs(in_crs.uri), "GeoJSON")
    prepared = prepare(source, kind, PrepareOptions(), import_policy(), what="feature refused")
    attributes = {
        k: (None if isinstance(v, float) and np.isnan(v) else v)
        for k, v in prepared.features.attributes.iloc[0].to_dict().items()
        if k in kind.fields or k in props
    }
    return CheckedFeature(
        prepared.features.geometries[0], attributes, prepared.features.gemeente[0], draft
    )


def _edit_response(result: EditResult, name: str, request: Request, status: int) -> Response:
    location = str(request.url_for("layer_feature", name=name, fid=result.fid))
    body = json.dumps(
        {"id": result.fid, "layer": name, "version": result.version, "href": location}
    )
    headers = {"Location": location, "ETag": etag(result.fid, result.version)}
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _authorize(
    who: Principal, info: LayerInfo, gemeenten: set[str | None], auth: AuthSettingsDep
) -> None:
    try:
        check_feature_edit(who, info.kind, gemeenten, auth.gemeente_kinds)
    except AuthError as exc:
        raise ApiError(exc.status, exc.message) from exc


def _if_match(request: Request) -> str:
    value = request.headers.get("if-match")
    if not value:
        raise ApiError(
            428, "send If-Match with the ETag of the feature you read, so that no change is lost"
        )
    return value


def _editable(
    conn: Connection, name: str, fid: int, who: Principal
) -> tuple[LayerInfo, Kind, str | None]:
    """The layer, kind and current gemeente of a feature the caller may see (404 otherwise)."""
    info = get_layer(conn, name, viewer=who.viewer)
    kind = load_kinds()[info.kind]
    q = FeatureQuery(fid=fid, limit=1, viewer=who.viewer)
    if query_features(conn, info, kind, q).number_returned == 0:
        raise ApiError(404, f"layer {name!r} has no feature {fid}")
    return info, kind, current_feature(conn, info.id, fid, name).gemeente


@router.post("/{name}/features", status_code=201, summary="Create a feature")
def create(
    name: str,
    body: JsonBodyDep,
    engine: EngineDep,
    request: Request,
    who: WriterDep,
    auth: AuthSettingsDep,
    crs: Annotated[
        str | None, Query(description="CRS of the geometry (default CRS84; or Content-Crs header).")
    ] = None,
) -> Response:
    """Add a feature (GeoJSON Feature); checked like an import; a new layer version."""
    in_crs = _input_crs(request, crs)
    with engine.begin() as conn:
        info = get_layer(conn, name, viewer=who.viewer)
        kind = load_kinds()[info.kind]
        feat = checked_feature(body, info, kind, in_crs)
        _authorize(who, info, {feat.gemeente}, auth)
        result = create_feature(
            conn,
            name,
            feat.geometry,
            feat.attributes,
            feat.gemeente,
            draft=feat.draft,
            by=who.label,
        )
    return _edit_response(result, name, request, 201)


@router.put("/{name}/features/{fid}", summary="Replace a feature (If-Match required)")
def replace(
    name: str,
    fid: int,
    body: JsonBodyDep,
    engine: EngineDep,
    request: Request,
    who: WriterDep,
    auth: AuthSettingsDep,
    crs: Annotated[str | None, Query()] = None,
) -> Response:
    """Replace a feature's geometry and attributes; 428 without If-Match, 412 when stale."""
    in_crs = _input_crs(request, crs)
    with engine.begin() as conn:
        info, kind, before = _editable(conn, name, fid, who)
        feat = checked_feature(body, info, kind, in_crs)
        _authorize(who, info, {before, feat.gemeente}, auth)
        result = replace_feature(
            conn,
            name,
            fid,
            feat.geometry,
            feat.attributes,
            feat.gemeente,
            draft=feat.draft,
            by=who.label,
            expected=_if_match(request),
        )
    return _edit_response(result, name, request, 200)


@router.delete(
    "/{name}/features/{fid}", status_code=204, summary="Delete a feature (If-Match required)"
)
def delete(
    name: str, fid: int, engine: EngineDep, request: Request, who: WriterDep, auth: AuthSettingsDep
) -> Response:
    """Delete a feature; a new layer version (the feature stays in history)."""
    with engine.begin() as conn:
        info, _kind, before = _editable(conn, name, fid, who)
        _authorize(who, info, {before}, auth)
        delete_feature(conn, name, fid, by=who.label, expected=_if_match(request))
    return Response(status_code=204)


@router.get("/{name}/features/{fid}/history", summary="Every state of a feature")
def history(
    name: str,
    fid: int,
    engine: EngineDep,
    viewer: ViewerDep,
    crs: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    """Who changed the feature when, and its geometry and attributes before and after each change."""
    out = parse_output_crs(crs)
    with engine.connect() as conn:
        get_layer(conn, name, viewer=viewer)
        entries = feature_history(conn, name, fid, viewer, out.srid, out.decimals)
    return {
        "layer": name,
        "id": fid,
        "crs": out.uri,
        "versions": [
            {
                "version_from": e.version_from,
                "version_to": e.version_to,
                "change": e.change,
                "changed_by": e.changed_by,
                "changed_at": e.changed_at.isoformat(),
                "ended_by": e.ended_by,
                "ended_change": e.ended_change,
                "draft": e.draft,
                "feature": {
                    "type": "Feature",
                    "id": fid,
                    "geometry": json.loads(e.geometry_geojson),
                    "properties": e.properties,
                },
            }
            for e in entries
        ],
    }


@router.post("/{name}/features/{fid}/restore", summary="Restore an earlier state of a feature")
def restore(
    name: str,
    fid: int,
    engine: EngineDep,
    request: Request,
    who: WriterDep,
    auth: AuthSettingsDep,
    version: Annotated[int, Query(ge=1, description="The layer version whose state to restore.")],
) -> Response:
    """Make the feature again what it was at layer ``version`` (If-Match when it exists now)."""
    with engine.begin() as conn:
        info = get_layer(conn, name, viewer=who.viewer)
        entries = feature_history(conn, name, fid, who.viewer)
        then = next(
            (
                e
                for e in entries
                if e.version_from <= version and (e.version_to is None or e.version_to > version)
            ),
            None,
        )
        if then is None:
            raise ApiError(
                404, f"feature {fid} of layer {name!r} did not exist at version {version}"
            )
        now = entries[-1] if entries[-1].version_to is None else None
        _authorize(who, info, {then.gemeente} | ({now.gemeente} if now else set()), auth)
        expected = _if_match(request) if now else None
        result = restore_feature(conn, name, fid, version, by=who.label, expected=expected)
    return _edit_response(result, name, request, 200)


@router.get("/{name}/download", summary="Download a layer as a file", response_class=FileResponse)
def download(
    name: str,
    engine: EngineDep,
    viewer: ViewerDep,
    format: Annotated[str, Query(description="gpkg, geojson, shp (zip), fgb or csv")] = "gpkg",  # noqa: A002
    crs: Annotated[
        str | None, Query(description="Output CRS (default: RD New; GeoJSON: WGS84).")
    ] = None,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> FileResponse:
    """The layer exported by the same code as ``ruimte layers export``."""
    fmt = format.lower()
    if fmt not in EXPORT_FORMATS:
        raise ApiError(400, f"format {format!r} is not one of {', '.join(EXPORT_FORMATS)}")
    out_crs = parse_output_crs(crs).uri if crs else None
    tmp = Path(tempfile.mkdtemp(prefix="ruimte-download-"))
    path = tmp / f"{name}{SUFFIXES[fmt]}"
    try:
        with engine.connect() as conn:
            export_layer(conn, name, fmt, path, crs=out_crs, version=version, viewer=viewer)
    except Exception:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[fmt],
        filename=path.name,
        background=BackgroundTask(shutil.rmtree, tmp, ignore_errors=True),
    )
