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
from app.bodies import FeatureBody, LayerPatch, WorkflowBody, count_positions, parse_body
from app.dependencies import (
    CRS84_URI,
    MAX_INT32,
    AuthSettingsDep,
    EngineDep,
    FidPath,
    JsonBodyDep,
    OutputCrs,
    PagingDep,
    VersionQuery,
    ViewerDep,
    WebSettingsDep,
    WriterDep,
    parse_bbox,
    parse_output_crs,
)
from app.errors import ApiError
from app.openapi import problems, request_body
from app.settings import AuthSettings, import_policy
from layers.edit import (
    ADOPTED,
    CurrentFeature,
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
from layers.ownership import load_gemeenten, outside_gemeente
from layers.query import FeatureQuery, encode_cursor, query_features
from layers.store import LayerInfo, get_layer, list_layers, set_layer_meta
from layers.workflow import load_workflow, propose_change, transition, write_state
from spatial.crs import RD_NEW, parse_crs

router = APIRouter(prefix="/api/layers", tags=["layers"])

GEOJSON = "application/geo+json"
#: Query parameters of the features endpoint that are not property filters.
RESERVED_PARAMS = {
    "bbox",
    "bbox-crs",
    "crs",
    "limit",
    "offset",
    "cursor",
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
    """Every layer the caller may see: kind, version, feature count, extent (RD), provenance."""
    with engine.connect() as conn:
        infos = list_layers(conn, viewer)
    return {"layers": [_layer_doc(i, request) for i in infos]}


@router.get("/{name}", summary="Layer metadata", name="layer_metadata")
def layer_metadata(
    name: str,
    engine: EngineDep,
    request: Request,
    viewer: ViewerDep,
    version: VersionQuery = None,
) -> dict[str, Any]:
    """Metadata of one layer: fields with Dutch labels, provenance, versions, links."""
    with engine.connect() as conn:
        info = get_layer(conn, name, version, viewer)
    return _layer_doc(info, request)


@router.patch(
    "/{name}",
    summary="Publish, unpublish or retitle a layer",
    openapi_extra=request_body("LayerPatch"),
)
def patch_layer(
    name: str, body: JsonBodyDep, engine: EngineDep, request: Request, who: WriterDep
) -> dict[str, Any]:
    """Change ``published``, ``title`` or ``description`` (the province only)."""
    try:
        require_province(who, "publish or change layers")
    except AuthError as exc:
        raise ApiError(exc.status, exc.message) from exc
    patch = parse_body(LayerPatch, body, "send an object with published, title and/or description")
    with engine.begin() as conn:
        info = set_layer_meta(conn, name, **patch.changes())
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
    version: VersionQuery = None,
) -> Response:
    """Features of a layer, filtered by bbox, gemeente and property values (``?status=hard``),
    paged."""
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
            after=paging.after,
            out_srid=out.srid,
            latlon=out.latlon,
            decimals=out.decimals,
            simplify=simplify or None,
            version=version,
            viewer=viewer,
        )
        page = query_features(conn, info, kind, q)
    links = [{"rel": "self", "href": str(request.url), "type": GEOJSON}]
    if page.number_returned == paging.limit and page.last_key is not None:
        nxt = request.url.remove_query_params("offset").include_query_params(
            cursor=encode_cursor(page.last_key), limit=paging.limit
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
    fid: FidPath,
    engine: EngineDep,
    viewer: ViewerDep,
    crs: Annotated[str | None, Query()] = None,
) -> Response:
    """One feature by its stable id, with an ``ETag`` to send back as ``If-Match`` to change it."""
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
        members = {
            "draft": True,
            "workflow": current.workflow,
            "workflow_label": load_workflow().label(current.workflow),
            "workflow_reason": current.workflow_reason,
            "proposal_for": current.proposal_for,
        }
        body = body[:-1] + ", " + json.dumps(members)[1:]
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
    draft: bool | None


def checked_feature(
    doc: Any,
    info: LayerInfo,
    kind: Kind,
    in_crs: OutputCrs,
    max_vertices: int,
    fid: int | None = None,
) -> CheckedFeature:
    """Parse a GeoJSON Feature and check it exactly like a file import (422 listing every problem).

    The body must be a Feature (:class:`app.bodies.FeatureBody`: no other members, a valid
    GeoJSON geometry of at most ``max_vertices`` positions). A top-level ``"draft": true``
    member makes it a draft (concept), seen only by its gemeente and the province. ``fid`` is
    the feature being replaced: an ``id`` in the body must be that one.
    """
    if not isinstance(doc, dict) or doc.get("type") != "Feature":
        raise ApiError(
            422,
            "the body must be a GeoJSON Feature "
            '({"type": "Feature", "geometry": …, "properties": …})',
        )
    positions = count_positions(doc.get("geometry"), max_vertices)
    if positions > max_vertices:
        raise ApiError(
            422,
            f"the geometry has more than {max_vertices:,} vertices, the most one feature may have",
            errors=[{"field": "geometry", "message": f"more than {max_vertices:,} vertices"}],
        )
    body = parse_body(FeatureBody, doc, "the body is not a GeoJSON Feature this API accepts")
    if body.id is not None and (fid is None or str(body.id) != str(fid)):
        expected = f"leave it out or send {fid}" if fid is not None else "leave it out"
        raise ApiError(
            422,
            f"id {body.id!r} in the body does not name this feature; {expected}"
            if fid is not None
            else "a new feature gets its id from the server; leave id out",
            errors=[{"field": "id", "message": expected}],
        )
    props = body.properties or {}
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
        geom = shapely.geometry.shape(doc["geometry"]) if body.geometry is not None else None
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
        prepared.features.geometries[0], attributes, prepared.features.gemeente[0], body.draft
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


def _check_ownership(
    conn: Connection,
    who: Principal,
    kind: Kind,
    gemeente: str | None,
    geometry: shapely.Geometry | None,
    auth: AuthSettings,
) -> None:
    """The gemeente of a feature must exist (everyone); a gemeente-editor's feature must lie
    within their own gemeente, up to ``auth.gemeente_tolerance_m`` over its border (403)."""
    if kind.name == "gemeenten":
        return  # the gemeenten layer is where statcodes come from
    editor = who.role == "gemeente-editor"
    if gemeente is None and not editor:
        return
    known = load_gemeenten(conn, auth.gemeenten_layer)
    field = kind.gemeente_field or "gemeente"
    if gemeente is not None and gemeente not in known.names:
        raise ApiError(
            422,
            f"gemeente {gemeente} does not exist: it is not a statcode of layer {known.layer!r}",
            errors=[
                {
                    "field": field,
                    "message": f"{gemeente!r} is not a gemeente of layer {known.layer!r}",
                }
            ],
        )
    if editor and geometry is not None and who.gemeente is not None:
        outside = outside_gemeente(conn, known, who.gemeente, geometry, auth.gemeente_tolerance_m)
        if outside is not None:
            what = outside.describe()
            raise ApiError(
                403,
                f"{who.name} edits within {known.name_of(who.gemeente)} only: {what} "
                f"(tolerance {auth.gemeente_tolerance_m:g} m)",
                errors=[{"field": "geometry", "message": what}],
            )


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


InputCrsQuery = Annotated[
    str | None, Query(description="CRS of the geometry (default CRS84; or Content-Crs header).")
]


@router.post(
    "/{name}/features",
    status_code=201,
    summary="Create a feature",
    openapi_extra=request_body("FeatureBody"),
)
def create(
    name: str,
    body: JsonBodyDep,
    engine: EngineDep,
    request: Request,
    who: WriterDep,
    auth: AuthSettingsDep,
    web: WebSettingsDep,
    crs: InputCrsQuery = None,
) -> Response:
    """Add a feature (GeoJSON Feature); checked like an import; a new layer version.

    A gemeente-editor's feature must lie within their gemeente; its ``gemeente`` must be a
    statcode of the stored gemeenten layer (for everyone)."""
    in_crs = _input_crs(request, crs)
    with engine.begin() as conn:
        info = get_layer(conn, name, viewer=who.viewer)
        kind = load_kinds()[info.kind]
        feat = checked_feature(body, info, kind, in_crs, web.max_vertices)
        _check_ownership(conn, who, kind, feat.gemeente, None, auth)
        _authorize(who, info, {feat.gemeente}, auth)
        _check_ownership(conn, who, kind, feat.gemeente, feat.geometry, auth)
        result = create_feature(
            conn,
            name,
            feat.geometry,
            feat.attributes,
            feat.gemeente,
            workflow=_write_state(who, feat.draft),
            by=who.label,
        )
    return _edit_response(result, name, request, 201)


@router.put(
    "/{name}/features/{fid}",
    summary="Replace a feature (If-Match required)",
    openapi_extra=request_body("FeatureBody"),
    responses=problems(412, 428),
)
def replace(
    name: str,
    fid: FidPath,
    body: JsonBodyDep,
    engine: EngineDep,
    request: Request,
    who: WriterDep,
    auth: AuthSettingsDep,
    web: WebSettingsDep,
    crs: InputCrsQuery = None,
) -> Response:
    """Replace a feature's geometry and attributes; 428 without If-Match, 412 when stale.

    The same ownership rules as a create apply to where the feature is moved."""
    in_crs = _input_crs(request, crs)
    with engine.begin() as conn:
        info, kind, before = _editable(conn, name, fid, who)
        feat = checked_feature(body, info, kind, in_crs, web.max_vertices, fid=fid)
        _check_ownership(conn, who, kind, feat.gemeente, None, auth)
        _authorize(who, info, {before, feat.gemeente}, auth)
        _check_ownership(conn, who, kind, feat.gemeente, feat.geometry, auth)
        expected = _if_match(request)
        current = current_feature(conn, info.id, fid, name)
        state = _write_state(who, feat.draft)
        if state != ADOPTED and current.workflow == ADOPTED and who.role == "gemeente-editor":
            # An adopted feature stays as it is (public, read by scenario runs) until the
            # province adopts the change: the change is a concept of its own that proposes it.
            result = propose_change(
                conn,
                name,
                fid,
                feat.geometry,
                feat.attributes,
                feat.gemeente,
                state=state,
                by=who.label,
                expected=expected,
            )
            return _edit_response(result, name, request, 201)
        if state == ADOPTED and current.proposal_for is not None:
            raise ApiError(
                409,
                f"feature {fid} proposes a change of feature {current.proposal_for}: adopt it "
                "with the workflow action vaststellen, or send draft: true to change the concept",
            )
        result = replace_feature(
            conn,
            name,
            fid,
            feat.geometry,
            feat.attributes,
            feat.gemeente,
            workflow=state,
            by=who.label,
            expected=expected,
        )
    return _edit_response(result, name, request, 200)


@router.delete(
    "/{name}/features/{fid}",
    status_code=204,
    summary="Delete a feature (If-Match required)",
    responses=problems(412, 428),
)
def delete(
    name: str,
    fid: FidPath,
    engine: EngineDep,
    request: Request,
    who: WriterDep,
    auth: AuthSettingsDep,
) -> Response:
    """Delete a feature; a new layer version (the feature stays in history)."""
    with engine.begin() as conn:
        info, _kind, before = _editable(conn, name, fid, who)
        _authorize(who, info, {before}, auth)
        _adopted_stays(who, current_feature(conn, info.id, fid, name), "delete")
        delete_feature(conn, name, fid, by=who.label, expected=_if_match(request))
    return Response(status_code=204)


@router.get("/{name}/features/{fid}/history", summary="Every state of a feature")
def history(
    name: str,
    fid: FidPath,
    engine: EngineDep,
    viewer: ViewerDep,
    crs: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    """Who changed the feature when, and its geometry and attributes before and after each
    change."""
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
                "workflow": e.workflow,
                "workflow_label": load_workflow().label(e.workflow),
                "workflow_reason": e.workflow_reason,
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


@router.post(
    "/{name}/features/{fid}/restore",
    summary="Restore an earlier state of a feature",
    responses=problems(412, 428),
)
def restore(
    name: str,
    fid: FidPath,
    engine: EngineDep,
    request: Request,
    who: WriterDep,
    auth: AuthSettingsDep,
    version: Annotated[
        int,
        Query(ge=1, le=MAX_INT32, description="The layer version whose state to restore."),
    ],
) -> Response:
    """Make the feature again what it was at layer ``version`` (If-Match when it exists now).

    The state restored is held to the ownership rules of a create: its gemeente must still
    exist, and a gemeente-editor may restore only a state that lies within their gemeente."""
    with engine.begin() as conn:
        info = get_layer(conn, name, viewer=who.viewer)
        kind = load_kinds()[info.kind]
        entries = feature_history(conn, name, fid, who.viewer, RD_NEW.to_epsg(), 6)
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
        _check_ownership(conn, who, kind, then.gemeente, None, auth)
        _authorize(who, info, {then.gemeente} | ({now.gemeente} if now else set()), auth)
        geometry = shapely.from_geojson(then.geometry_geojson)
        _check_ownership(conn, who, kind, then.gemeente, geometry, auth)
        expected = _if_match(request) if now else None
        if now is not None:
            _adopted_stays(who, current_feature(conn, info.id, fid, name), "restore")
        result = restore_feature(
            conn,
            name,
            fid,
            version,
            by=who.label,
            expected=expected,
            workflow=write_state(who.role, then.draft) if who.role == "gemeente-editor" else None,
        )
    return _edit_response(result, name, request, 200)


@router.post(
    "/{name}/features/{fid}/workflow",
    summary="Submit, adopt or return a feature (If-Match required)",
    openapi_extra=request_body("WorkflowBody"),
    responses=problems(412, 428),
)
def workflow_action(
    name: str,
    fid: FidPath,
    body: JsonBodyDep,
    engine: EngineDep,
    request: Request,
    who: WriterDep,
    auth: AuthSettingsDep,
) -> Response:
    """``indienen`` (a gemeente submits a concept), ``vaststellen`` (the province adopts it: then
    it is public and scenario runs read it) or ``terugsturen`` (the province returns it, with a
    reason); the actions, states and roles are in ``layers/data/workflow.yaml``."""
    action = parse_body(WorkflowBody, body, 'send {"action": …, "reason": …}')
    with engine.begin() as conn:
        info, _kind, before = _editable(conn, name, fid, who)
        _authorize(who, info, {before}, auth)
        result = transition(
            conn,
            name,
            fid,
            action.action,
            role=who.role,
            by=who.label,
            reason=action.reason,
            expected=_if_match(request),
        )
    return _edit_response(result, name, request, 200)


def _write_state(who: Principal, draft: bool | None) -> str:
    """The workflow state a create or replace by ``who`` stores (403 for a gemeente-editor
    who asks to adopt)."""
    if who.role == "gemeente-editor" and draft is False:
        raise ApiError(
            403,
            f"{who.name} saves concepts: only the province adopts (vaststellen); "
            "leave draft out or send draft: true, then submit it (indienen)",
            errors=[{"field": "draft", "message": "a gemeente-editor cannot adopt"}],
        )
    return write_state(who.role, bool(draft))


def _adopted_stays(who: Principal, current: CurrentFeature, what: str) -> None:
    """A gemeente-editor does not change an adopted feature in place (403)."""
    if who.role == "gemeente-editor" and current.workflow == ADOPTED:
        raise ApiError(
            403,
            f"feature {current.fid} is adopted (vastgesteld): a gemeente-editor cannot {what} it; "
            "save a changed version (PUT) as a proposal, or ask the province",
        )


@router.get("/{name}/download", summary="Download a layer as a file", response_class=FileResponse)
def download(
    name: str,
    engine: EngineDep,
    viewer: ViewerDep,
    format: Annotated[str, Query(description="gpkg, geojson, shp (zip), fgb or csv")] = "gpkg",  # noqa: A002
    crs: Annotated[
        str | None, Query(description="Output CRS (default: RD New; GeoJSON: WGS84).")
    ] = None,
    version: VersionQuery = None,
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
