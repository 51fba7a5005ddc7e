"""Single-feature edits (create, replace, delete, restore) and their history.

An edit never overwrites a row: it closes the feature's current row at a new layer
version and (for create, replace and restore) adds a row that starts there, with the same
stable ``fid``. Earlier layer versions therefore stay readable, and a feature's rows are its
history: who made each row, when, and what it held.

Concurrency: every edit first locks the layer row, so edits of one layer run one after the
other; the feature's current row is read only after that lock is held, so a stale
``expected`` version (the ETag a client read) is always detected (:class:`StaleFeature`).
Callers check features first (:func:`layers.importer.prepare`) and run these functions
inside their transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import shapely
from sqlalchemy import Connection, func, insert, select, update

from layers.access import Viewer, feature_visibility, layer_visibility, sees_every_feature
from layers.errors import LayerError, LayerExists, LayerNotFound
from layers.models import STORAGE_SRID, Feature, Layer, LayerVersion
from layers.store import is_derived_name, orm_session


class StaleFeature(LayerError):
    """The feature changed since the client read it (HTTP 412)."""

    status = 412
    title = "Precondition failed"


@dataclass(frozen=True)
class EditResult:
    """What an edit did: the feature and the layer version it created."""

    fid: int
    version: int


@dataclass(frozen=True)
class CurrentFeature:
    """The current row of a feature, as an edit sees it under the layer lock."""

    fid: int
    version_from: int
    gemeente: str | None
    draft: bool
    workflow: str = "vastgesteld"
    proposal_for: int | None = None
    workflow_reason: str | None = None


#: The workflow state every adopted (public) feature is in; all others are drafts.
ADOPTED = "vastgesteld"


def workflow_state(draft: bool, workflow: str | None) -> str:
    """The state a write stores: ``workflow`` when given, else concept for a draft."""
    return workflow or ("concept" if draft else ADOPTED)


def etag(fid: int, version_from: int) -> str:
    """The entity tag of a feature row: changes whenever the feature changes."""
    return f'"{fid}-{version_from}"'


def _lock_layer(conn: Connection, name: str) -> Layer:
    if is_derived_name(name):
        raise LayerExists(
            f"layer {name!r} is derived by a scenario run and cannot be edited (the run's results "
            "must stay reproducible); change the inputs and run the scenario again"
        )
    layer = (
        orm_session(conn)
        .execute(select(Layer).where(Layer.name == name).with_for_update())
        .scalars()
        .first()
    )
    if layer is None:
        raise LayerNotFound(f"no layer named {name!r}", layer_name=name)
    return layer


def current_feature(conn: Connection, layer_id: int, fid: int, name: str) -> CurrentFeature:
    """The current row of ``fid`` (:class:`LayerNotFound` when it has none)."""
    row = conn.execute(
        select(
            Feature.fid,
            Feature.version_from,
            Feature.gemeente,
            Feature.draft,
            Feature.workflow,
            Feature.proposal_for,
            Feature.workflow_reason,
        ).where(Feature.layer_id == layer_id, Feature.fid == fid, Feature.version_to.is_(None))
    ).first()
    if row is None:
        raise LayerNotFound(f"layer {name!r} has no feature {fid}")
    return CurrentFeature(*row)


def _check_expected(current: CurrentFeature, expected: str | None) -> None:
    if (
        expected is not None
        and expected.strip() != "*"
        and expected.strip() != etag(current.fid, current.version_from)
    ):
        raise StaleFeature(
            f"feature {current.fid} has changed since it was read (now {etag(current.fid, current.version_from)}, "
            f"If-Match {expected}); read it again and repeat the change"
        )


def _new_version(
    conn: Connection,
    layer: Layer,
    change: str,
    by: str | None,
    fid: int,
    count_delta: int,
    bounds: tuple[float, float, float, float] | None,
) -> int:
    """Add the layer's next version (provenance carried over) and make it current."""
    prev = (
        orm_session(conn)
        .execute(
            select(LayerVersion).where(
                LayerVersion.layer_id == layer.id, LayerVersion.version == layer.current_version
            )
        )
        .scalars()
        .one()
    )
    version = layer.current_version + 1
    box = [prev.minx, prev.miny, prev.maxx, prev.maxy]
    if bounds is not None:
        box = (
            list(bounds)
            if box[0] is None
            else [
                min(box[0], bounds[0]),
                min(box[1], bounds[1]),
                max(box[2], bounds[2]),
                max(box[3], bounds[3]),
            ]
        )
    conn.execute(
        insert(LayerVersion).values(
            layer_id=layer.id,
            version=version,
            change=change,
            created_by=by,
            feature_fid=fid,
            source=prev.source,
            source_format=prev.source_format,
            source_crs=prev.source_crs,
            source_date=prev.source_date,
            licence=prev.licence,
            attribution=prev.attribution,
            synthetic=prev.synthetic,
            note=f"{change} of feature {fid} by {by or 'unknown'}",
            feature_count=prev.feature_count + count_delta,
            minx=box[0],
            miny=box[1],
            maxx=box[2],
            maxy=box[3],
            extra_fields=prev.extra_fields,
        )
    )
    conn.execute(
        update(Layer)
        .where(Layer.id == layer.id)
        .values(current_version=version, updated_at=func.now())
    )
    return version


def stored_row(conn: Connection, *where: Any) -> Any:
    """One stored feature row (the first matching ``where``) as an edit copies it: geometry,
    attributes, gemeente, workflow state, proposal and bounds; None when there is none."""
    return conn.execute(
        select(
            Feature.geom,
            Feature.properties,
            Feature.gemeente,
            Feature.workflow,
            Feature.proposal_for,
            func.ST_XMin(Feature.geom).label("minx"),
            func.ST_YMin(Feature.geom).label("miny"),
            func.ST_XMax(Feature.geom).label("maxx"),
            func.ST_YMax(Feature.geom).label("maxy"),
        ).where(*where)
    ).first()


def row_bounds(row: Any) -> tuple[float, float, float, float]:
    """The bounds of a :func:`stored_row`."""
    return (row.minx, row.miny, row.maxx, row.maxy)


def insert_copy(
    conn: Connection,
    layer_id: int,
    version: int,
    row: Any,
    state: str,
    by: str | None,
    fid: int,
    reason: str | None = None,
    proposal_for: int | None = None,
) -> None:
    """A new row of ``fid`` from version ``version`` holding ``row``'s (a :func:`stored_row`)
    geometry and attributes in workflow ``state`` (an adopted row proposes nothing)."""
    conn.execute(
        insert(Feature).values(
            fid=fid,
            layer_id=layer_id,
            version_from=version,
            gemeente=row.gemeente,
            draft=state != ADOPTED,
            workflow=state,
            workflow_reason=reason,
            proposal_for=proposal_for if state != ADOPTED else None,
            geom=row.geom,
            properties=row.properties,
            created_by=by,
        )
    )


def _close(conn: Connection, layer_id: int, fid: int, version: int) -> None:
    conn.execute(
        update(Feature)
        .where(Feature.layer_id == layer_id, Feature.fid == fid, Feature.version_to.is_(None))
        .values(version_to=version)
    )


def _insert(
    conn: Connection,
    layer_id: int,
    version: int,
    geometry: shapely.Geometry,
    attributes: dict[str, Any],
    gemeente: str | None,
    workflow: str,
    by: str | None,
    fid: int | None = None,
    reason: str | None = None,
    proposal_for: int | None = None,
) -> int:
    values: dict[str, Any] = {
        "layer_id": layer_id,
        "version_from": version,
        "gemeente": gemeente,
        "draft": workflow != ADOPTED,
        "workflow": workflow,
        "workflow_reason": reason,
        "proposal_for": proposal_for,
        "geom": func.ST_GeomFromWKB(shapely.to_wkb(geometry), STORAGE_SRID),
        "properties": json.loads(json.dumps(attributes, default=str)),
        "created_by": by,
    }
    if fid is not None:
        values["fid"] = fid
    return conn.execute(insert(Feature).values(**values).returning(Feature.fid)).scalar_one()


def create_feature(
    conn: Connection,
    name: str,
    geometry: shapely.Geometry,
    attributes: dict[str, Any],
    gemeente: str | None = None,
    *,
    draft: bool = False,
    workflow: str | None = None,
    proposal_for: int | None = None,
    by: str | None = None,
) -> EditResult:
    """Add a checked feature (EPSG:28992) to layer ``name`` as a new layer version.

    ``workflow`` is its state (default: concept for a draft, else vastgesteld);
    ``proposal_for`` the adopted feature it is to replace once adopted.
    """
    layer = _lock_layer(conn, name)
    fid = conn.execute(select(func.nextval("feature_fid_seq"))).scalar_one()
    version = _new_version(conn, layer, "create", by, fid, +1, tuple(geometry.bounds))
    state = workflow_state(draft, workflow)
    _insert(
        conn, layer.id, version, geometry, attributes, gemeente, state, by, fid, None, proposal_for
    )
    return EditResult(fid=fid, version=version)


def replace_feature(
    conn: Connection,
    name: str,
    fid: int,
    geometry: shapely.Geometry,
    attributes: dict[str, Any],
    gemeente: str | None = None,
    *,
    draft: bool = False,
    workflow: str | None = None,
    by: str | None = None,
    expected: str | None = None,
) -> EditResult:
    """Replace feature ``fid`` as a new layer version; :class:`StaleFeature` if ``expected`` is stale.

    A concept that proposes a change of an adopted feature stays that proposal.
    """
    layer = _lock_layer(conn, name)
    current = current_feature(conn, layer.id, fid, name)
    _check_expected(current, expected)
    version = _new_version(conn, layer, "update", by, fid, 0, tuple(geometry.bounds))
    _close(conn, layer.id, fid, version)
    state = workflow_state(draft, workflow)
    proposal = current.proposal_for if state != ADOPTED else None
    _insert(conn, layer.id, version, geometry, attributes, gemeente, state, by, fid, None, proposal)
    return EditResult(fid=fid, version=version)


def delete_feature(
    conn: Connection, name: str, fid: int, *, by: str | None = None, expected: str | None = None
) -> EditResult:
    """Delete feature ``fid`` as a new layer version (its rows stay in history)."""
    layer = _lock_layer(conn, name)
    _check_expected(current_feature(conn, layer.id, fid, name), expected)
    version = _new_version(conn, layer, "delete", by, fid, -1, None)
    _close(conn, layer.id, fid, version)
    return EditResult(fid=fid, version=version)


def restore_feature(
    conn: Connection,
    name: str,
    fid: int,
    at_version: int,
    *,
    by: str | None = None,
    expected: str | None = None,
    workflow: str | None = None,
) -> EditResult:
    """Make feature ``fid`` again exactly what it was at layer version ``at_version``.

    Works for a deleted feature too (it comes back with the same ``fid``). ``workflow``
    overrides the restored state's workflow state (a gemeente-editor's restore is a concept).
    """
    layer = _lock_layer(conn, name)
    old = stored_row(
        conn,
        Feature.layer_id == layer.id,
        Feature.fid == fid,
        Feature.version_from <= at_version,
        (Feature.version_to.is_(None)) | (Feature.version_to > at_version),
    )
    if old is None:
        raise LayerNotFound(
            f"feature {fid} of layer {name!r} did not exist at version {at_version}"
        )
    try:
        current: CurrentFeature | None = current_feature(conn, layer.id, fid, name)
    except LayerNotFound:
        current = None
    if current is not None:
        _check_expected(current, expected)
    version = _new_version(conn, layer, "restore", by, fid, 0 if current else +1, row_bounds(old))
    if current is not None:
        _close(conn, layer.id, fid, version)
    state = workflow or old.workflow
    insert_copy(conn, layer.id, version, old, state, by, fid, proposal_for=old.proposal_for)
    return EditResult(fid=fid, version=version)


@dataclass(frozen=True)
class HistoryEntry:
    """One state of a feature: the layer versions it held for, who made it, and what it was."""

    version_from: int
    version_to: int | None
    change: str
    changed_by: str | None
    changed_at: datetime
    ended_by: str | None
    ended_change: str | None
    draft: bool
    workflow: str
    workflow_reason: str | None
    gemeente: str | None
    geometry_geojson: str
    properties: dict[str, Any]


def feature_history(
    conn: Connection,
    name: str,
    fid: int,
    viewer: Viewer | None = None,
    out_srid: int = 4326,
    decimals: int = 7,
) -> list[HistoryEntry]:
    """Every state of feature ``fid``, oldest first, as ``viewer`` may see them.

    States ``viewer`` may not see (drafts) are left out, and so is every trace of them: a
    visible state that a hidden one replaced reads as deleted then, and one that replaced a
    hidden state as created.
    """
    layer = conn.execute(
        select(Layer.id).where(Layer.name == name, layer_visibility(viewer))
    ).scalar()
    if layer is None:
        raise LayerNotFound(f"no layer named {name!r}", layer_name=name)
    made = LayerVersion.__table__.alias("made")
    ended = LayerVersion.__table__.alias("ended")
    geom = Feature.geom if out_srid == STORAGE_SRID else func.ST_Transform(Feature.geom, out_srid)
    rows = conn.execute(
        select(
            Feature.version_from,
            Feature.version_to,
            Feature.created_at,
            Feature.created_by,
            Feature.draft,
            Feature.gemeente,
            func.ST_AsGeoJSON(geom, decimals),
            Feature.properties,
            made.c.change,
            ended.c.change.label("ended_change"),
            ended.c.created_by.label("ended_by"),
            Feature.workflow,
            Feature.workflow_reason,
        )
        .select_from(Feature)
        .outerjoin(
            made, (made.c.layer_id == Feature.layer_id) & (made.c.version == Feature.version_from)
        )
        .outerjoin(
            ended, (ended.c.layer_id == Feature.layer_id) & (ended.c.version == Feature.version_to)
        )
        .where(Feature.layer_id == layer, Feature.fid == fid, feature_visibility(viewer))
        .order_by(Feature.version_from)
    ).all()
    if not rows:
        raise LayerNotFound(f"layer {name!r} has no feature {fid}")
    entries = [
        HistoryEntry(
            version_from=r[0],
            version_to=r[1],
            changed_at=r[2],
            changed_by=r[3],
            draft=r[4],
            gemeente=r[5],
            geometry_geojson=r[6],
            properties=r[7],
            change=r[8] or "import",
            ended_change=r[9],
            ended_by=r[10],
            workflow=r[11],
            workflow_reason=r[12],
        )
        for r in rows
    ]
    if sees_every_feature(viewer):
        return entries
    starts = {e.version_from for e in entries}
    ends = {e.version_to for e in entries}
    return [
        replace(
            e,
            change="create" if e.change == "update" and e.version_from not in ends else e.change,
            ended_change=(
                "delete"
                if e.version_to is not None and e.version_to not in starts
                else e.ended_change
            ),
        )
        for e in entries
    ]
