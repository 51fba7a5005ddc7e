"""The geometry of each feature row in Web Mercator, stored once (``tile_geometries``,
:class:`layers.models.TileGeometry`, issue 14).

Transforming RD New to Web Mercator costs about a microsecond per vertex in PostGIS, half of a
cold z12 or z14 tile, and WGS84 from Web Mercator (the inverse Mercator) is a few times
cheaper than from RD New, most of a page of features in CRS84. So the first WebMercatorQuad
tile or CRS84 page of a layer version stores its rows' 3857 geometry in a background thread
(:func:`prepare_later`). Tiles (:mod:`layers.tiles`) and pages (:mod:`layers.query`) take it
from there through :func:`same_row_tile_geometry`, and transform what is not stored yet (an
edit's new rows, a layer being prepared), so a response never depends on whether that work
is done.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Connection, and_, exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.sql.elements import ColumnElement

from layers.catalogue import LayerInfo
from layers.models import TILE_SRID, Feature, TileGeometry

log = logging.getLogger(__name__)


def same_row_tile_geometry() -> ColumnElement:
    """The join of a feature row to its entry in ``tile_geometries`` (made from this row: a
    later row of the same fid and version, as after a delete and re-import, has another
    ``created_at``)."""
    return and_(
        TileGeometry.layer_id == Feature.layer_id,
        TileGeometry.fid == Feature.fid,
        TileGeometry.version_from == Feature.version_from,
        TileGeometry.created_at == Feature.created_at,
    )


#: Advisory lock (with the layer id) held while a layer's tile geometries are stored, so that
#: two processes do not transform the same rows at once.
PREPARE_LOCK = 143_857
_prepared: set[tuple[int, int]] = set()
_prepared_lock = threading.Lock()


def prepare_tile_geometries(conn: Connection, layer_id: int) -> bool:
    """Store the Web Mercator geometry of the layer's current feature rows that have none
    (``tile_geometries``), in the caller's transaction; False when another process is at it.
    Rows that an edit adds later get theirs at the next call; until then their tiles
    transform them (the same geometry)."""
    locked = conn.execute(select(func.pg_try_advisory_xact_lock(PREPARE_LOCK, layer_id)))
    if not locked.scalar_one():
        return False
    conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
    rows = select(
        Feature.layer_id,
        Feature.fid,
        Feature.version_from,
        Feature.created_at,
        func.ST_Transform(Feature.geom, TILE_SRID),
    ).where(
        Feature.layer_id == layer_id,
        Feature.version_to.is_(None),
        ~exists().where(same_row_tile_geometry()),
    )
    stmt = insert(TileGeometry).from_select(
        ["layer_id", "fid", "version_from", "created_at", "geom"], rows
    )
    stmt = stmt.on_conflict_do_update(
        constraint="pk_tile_geometries",
        set_={"created_at": stmt.excluded.created_at, "geom": stmt.excluded.geom},
    )
    conn.execute(stmt)
    return True


def prepare_later(conn: Connection, info: LayerInfo) -> None:
    """Once per layer version and process: store its tile geometries, in a thread of its own
    (a big layer takes seconds; its tiles meanwhile transform what is not stored yet)."""
    key = (info.id, info.current_version)
    with _prepared_lock:
        if key in _prepared:
            return
        if len(_prepared) > 4096:
            _prepared.clear()
        _prepared.add(key)
    thread = threading.Thread(
        target=_prepare, args=(conn.engine, info.id), name=f"tile-geometries-{info.id}", daemon=True
    )
    thread.start()


def prepare_now(engine, info: LayerInfo) -> None:  # noqa: ANN001 - an Engine
    """Store the tile geometries of ``info``'s current version now, in this thread (what its
    first WebMercatorQuad tile starts in the background), e.g. before a benchmark measures."""
    with _prepared_lock:
        _prepared.add((info.id, info.current_version))
    with engine.begin() as conn:
        prepare_tile_geometries(conn, info.id)


def _prepare(engine, layer_id: int) -> None:  # noqa: ANN001 - an Engine
    try:
        with engine.begin() as conn:
            prepare_tile_geometries(conn, layer_id)
    except Exception:  # noqa: BLE001 - a background job: tiles are made without it
        log.warning("storing the tile geometries of layer %s failed", layer_id, exc_info=True)
