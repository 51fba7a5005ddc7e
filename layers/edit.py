"""Single-feature edits: create, replace, delete, each as a new layer version.

An edit never overwrites a row: it closes the feature's current row at the new layer
version and (for create and replace) adds a row that starts there, with the same stable
``fid``. Earlier layer versions therefore stay readable, and a feature's rows are its
history. Callers check features first (:func:`layers.importer.prepare`) and run these
inside their transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import shapely
from sqlalchemy import Connection, func, insert, select, update

from layers.errors import LayerNotFound
from layers.models import STORAGE_SRID, Feature, Layer, LayerVersion
from layers.store import _orm


@dataclass(frozen=True)
class EditResult:
    """What an edit did: the feature and the layer version it created."""

    fid: int
    version: int


def _begin_edit(conn: Connection, name: str, change: str, by: str | None, count_delta: int,
                bounds: tuple[float, float, float, float] | None) -> tuple[Layer, int]:
    """Lock the layer, add its next version (provenance carried over) and return both."""
    session = _orm(conn)
    layer = session.execute(select(Layer).where(Layer.name == name).with_for_update()).scalars().first()
    if layer is None:
        raise LayerNotFound(f"no layer named {name!r}")
    prev = session.execute(
        select(LayerVersion).where(LayerVersion.layer_id == layer.id, LayerVersion.version == layer.current_version)
    ).scalars().one()
    version = layer.current_version + 1
    box = [prev.minx, prev.miny, prev.maxx, prev.maxy]
    if bounds is not None:
        if box[0] is None:
            box = list(bounds)
        else:
            box = [min(box[0], bounds[0]), min(box[1], bounds[1]), max(box[2], bounds[2]), max(box[3], bounds[3])]
    conn.execute(
        insert(LayerVersion).values(
            layer_id=layer.id,
            version=version,
            change=change,
            created_by=by,
            source=prev.source,
            source_format=prev.source_format,
            source_crs=prev.source_crs,
            source_date=prev.source_date,
            licence=prev.licence,
            attribution=prev.attribution,
            synthetic=prev.synthetic,
            note=f"{change} by {by or 'unknown'}",
            feature_count=prev.feature_count + count_delta,
            minx=box[0],
            miny=box[1],
            maxx=box[2],
            maxy=box[3],
            extra_fields=prev.extra_fields,
        )
    )
    conn.execute(update(Layer).where(Layer.id == layer.id).values(current_version=version, updated_at=func.now()))
    return layer, version


def _current_row(conn: Connection, layer_id: int, fid: int, name: str) -> Feature:
    row = _orm(conn).execute(
        select(Feature)
        .where(Feature.layer_id == layer_id, Feature.fid == fid, Feature.version_to.is_(None))
        .with_for_update()
    ).scalars().first()
    if row is None:
        raise LayerNotFound(f"layer {name!r} has no feature {fid}")
    return row


def _insert(conn: Connection, layer_id: int, version: int, geometry: shapely.Geometry,
            attributes: dict[str, Any], gemeente: str | None, by: str | None, fid: int | None = None) -> int:
    values: dict[str, Any] = {
        "layer_id": layer_id,
        "version_from": version,
        "gemeente": gemeente,
        "geom": func.ST_GeomFromWKB(shapely.to_wkb(geometry), STORAGE_SRID),
        "properties": json.loads(json.dumps(attributes, default=str)),
        "created_by": by,
    }
    if fid is not None:
        values["fid"] = fid
    return conn.execute(insert(Feature).values(**values).returning(Feature.fid)).scalar_one()


def create_feature(conn: Connection, name: str, geometry: shapely.Geometry, attributes: dict[str, Any],
                   gemeente: str | None = None, by: str | None = None) -> EditResult:
    """Add a checked feature (EPSG:28992) to layer ``name`` as a new layer version."""
    layer, version = _begin_edit(conn, name, "create", by, +1, tuple(geometry.bounds))
    fid = _insert(conn, layer.id, version, geometry, attributes, gemeente, by)
    return EditResult(fid=fid, version=version)


def replace_feature(conn: Connection, name: str, fid: int, geometry: shapely.Geometry,
                    attributes: dict[str, Any], gemeente: str | None = None, by: str | None = None) -> EditResult:
    """Replace feature ``fid`` (geometry and attributes) as a new layer version."""
    layer = _layer_id(conn, name)
    _current_row(conn, layer, fid, name)
    _, version = _begin_edit(conn, name, "update", by, 0, tuple(geometry.bounds))
    conn.execute(
        update(Feature)
        .where(Feature.layer_id == layer, Feature.fid == fid, Feature.version_to.is_(None))
        .values(version_to=version)
    )
    _insert(conn, layer, version, geometry, attributes, gemeente, by, fid=fid)
    return EditResult(fid=fid, version=version)


def delete_feature(conn: Connection, name: str, fid: int, by: str | None = None) -> EditResult:
    """Delete feature ``fid`` as a new layer version (its rows stay in history)."""
    layer = _layer_id(conn, name)
    _current_row(conn, layer, fid, name)
    _, version = _begin_edit(conn, name, "delete", by, -1, None)
    conn.execute(
        update(Feature)
        .where(Feature.layer_id == layer, Feature.fid == fid, Feature.version_to.is_(None))
        .values(version_to=version)
    )
    return EditResult(fid=fid, version=version)


def _layer_id(conn: Connection, name: str) -> int:
    layer_id = conn.execute(select(Layer.id).where(Layer.name == name)).scalar()
    if layer_id is None:
        raise LayerNotFound(f"no layer named {name!r}")
    return int(layer_id)
