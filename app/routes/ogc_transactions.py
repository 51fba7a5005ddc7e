"""OGC API – Features Part 4 (Create, Replace, Delete) at ``/ogc/collections/{c}/items``.

The same code as the REST API's writes (:mod:`app.routes.layers`): the body is checked like
an import, the same roles and ownership rules apply (401/403), ``PUT`` and ``DELETE`` need
``If-Match`` with the feature's ``ETag`` (428 without, 412 when stale), every write is a new
layer version with its history, derived layers (``run-*``) refuse edits (409). Only the URLs
differ: ``Location`` names the feature in the OGC API, and a feature id that is not a stable
id of the collection is a 404. The input CRS is ``Content-Crs`` (or ``crs``), CRS84 by
default.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response

from app.dependencies import (
    MAX_INT64,
    AuthSettingsDep,
    EngineDep,
    JsonBodyDep,
    WebSettingsDep,
    WriterDep,
)
from app.errors import ApiError
from app.openapi import problems, request_body
from app.routes import layers as rest
from app.routes.ogc import OgcRoute

router = APIRouter(prefix="/ogc", tags=["OGC API – Features"], route_class=OgcRoute)


def _fid(collection: str, feature_id: str) -> int:
    """The stable id in a path (ASCII digits, 1…2⁶³−1); anything else names no feature (404)."""
    ok = feature_id.isascii() and feature_id.isdigit() and len(feature_id) <= 19
    fid = int(feature_id) if ok else 0
    if not 1 <= fid <= MAX_INT64:
        raise ApiError(404, f"collection {collection!r} has no feature {feature_id!r}")
    return fid


def _ogc_response(resp: Response, collection: str, request: Request) -> Response:
    """The REST answer with ``Location`` (and ``href``) naming the feature in the OGC API."""
    doc = json.loads(resp.body)
    location = str(request.url_for("ogc_item", collectionId=collection, featureId=str(doc["id"])))
    doc["href"] = location
    headers = {"Location": location, "ETag": resp.headers["etag"]}
    return Response(
        json.dumps(doc),
        status_code=resp.status_code,
        media_type="application/json",
        headers=headers,
    )


@router.post(
    "/collections/{collectionId}/items",
    status_code=201,
    summary="Create a feature (Part 4)",
    openapi_extra=request_body("FeatureBody"),
    responses=problems(422),
)
def create_item(
    collectionId: str,  # noqa: N803 - name from the standard
    body: JsonBodyDep,
    engine: EngineDep,
    request: Request,
    who: WriterDep,
    auth: AuthSettingsDep,
    web: WebSettingsDep,
    crs: rest.InputCrsQuery = None,
) -> Response:
    """Add a GeoJSON Feature, checked like an import (422 lists every problem); 201 with
    ``Location`` and ``ETag``."""
    resp = rest.create(collectionId, body, engine, request, who, auth, web, crs)
    return _ogc_response(resp, collectionId, request)


@router.put(
    "/collections/{collectionId}/items/{featureId}",
    summary="Replace a feature (Part 4; If-Match required)",
    openapi_extra=request_body("FeatureBody"),
    responses=problems(412, 422, 428),
)
def replace_item(
    collectionId: str,  # noqa: N803
    featureId: str,  # noqa: N803
    body: JsonBodyDep,
    engine: EngineDep,
    request: Request,
    who: WriterDep,
    auth: AuthSettingsDep,
    web: WebSettingsDep,
    crs: rest.InputCrsQuery = None,
) -> Response:
    """Replace geometry and attributes; 428 without If-Match, 412 when someone else changed it."""
    fid = _fid(collectionId, featureId)
    resp = rest.replace(collectionId, fid, body, engine, request, who, auth, web, crs)
    return _ogc_response(resp, collectionId, request)


@router.delete(
    "/collections/{collectionId}/items/{featureId}",
    status_code=204,
    summary="Delete a feature (Part 4; If-Match required)",
    responses=problems(412, 428),
)
def delete_item(
    collectionId: str,  # noqa: N803
    featureId: str,  # noqa: N803
    engine: EngineDep,
    request: Request,
    who: WriterDep,
    auth: AuthSettingsDep,
) -> Response:
    """Delete a feature: a new layer version; it stays in the history and can be restored."""
    return rest.delete(collectionId, _fid(collectionId, featureId), engine, request, who, auth)
