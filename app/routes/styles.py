"""``/api/styles``: the map style definitions, and each layer's style as QML or SLD.

The web maps, these downloads and the ``layer_styles`` table of exported GeoPackages all
come from ``layers/data/styles.yaml``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from app.dependencies import EngineDep, PlanningDep, ViewerDep
from app.ogc_models import Problem
from layers.kinds import load_kinds
from layers.qml import to_qml
from layers.sld import to_sld
from layers.store import get_layer
from layers.styles import layer_style, load_styles

router = APIRouter(prefix="/api/styles", tags=["styles"])
QML = "application/vnd.qgis.qml"
SLD = "application/vnd.ogc.sld+xml"
NOT_FOUND: dict[int | str, Any] = {
    404: {
        "model": Problem,
        "description": "No such layer",
        "content": {"application/problem+json": {}},
    }
}


@router.get("", summary="Map style definitions")
def styles_index() -> dict[str, Any]:
    """Every style key with its symbol and classification (what the web maps draw with)."""
    return load_styles()


@router.get(
    "/{name}.qml",
    summary="QGIS style (QML) of a layer",
    response_class=Response,
    responses={200: {"content": {QML: {"schema": {"type": "string"}}}}, **NOT_FOUND},
)
def layer_qml(name: str, engine: EngineDep, viewer: ViewerDep, planning: PlanningDep) -> Response:
    """The web map style of a layer as a QGIS style file (Dutch field aliases included)."""
    with engine.connect() as conn:
        info = get_layer(conn, name, viewer=viewer, with_versions=False)
    kind = load_kinds()[info.kind]
    style = layer_style(kind, info.title, planning.hmc_threshold)
    text = to_qml(style, info.geometry_type, {"fid": "Feature-id", **kind.field_labels()})
    return Response(
        text, media_type=QML, headers={"Content-Disposition": f'attachment; filename="{name}.qml"'}
    )


@router.get(
    "/{name}.sld",
    summary="SLD 1.0 style of a layer",
    response_class=Response,
    responses={200: {"content": {SLD: {"schema": {"type": "string"}}}}, **NOT_FOUND},
)
def layer_sld(name: str, engine: EngineDep, viewer: ViewerDep, planning: PlanningDep) -> Response:
    """The web map style of a layer as a Styled Layer Descriptor."""
    with engine.connect() as conn:
        info = get_layer(conn, name, viewer=viewer, with_versions=False)
    kind = load_kinds()[info.kind]
    text = to_sld(layer_style(kind, info.title, planning.hmc_threshold), name, info.geometry_type)
    return Response(
        text, media_type=SLD, headers={"Content-Disposition": f'attachment; filename="{name}.sld"'}
    )
