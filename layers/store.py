"""The layer catalogue and feature store in PostGIS.

Functions take a SQLAlchemy ``Connection`` inside the caller's transaction, so that an
import (or an API request) is all or nothing: the caller commits or rolls back.
Features are written with a binary ``COPY`` (EWKB geometry, JSONB properties) into the
layer's own partition of ``features``; a new layer's partition is attached only after
its rows are in, so its indexes are built in bulk. That is what makes large imports fast.
"""

from __future__ import annotations

import json
import re
import struct
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Connection, and_, delete, func, not_, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from layers.access import Viewer, feature_visibility, layer_visibility, sees_every_feature
from layers.catalogue import LayerInfo, Provenance, info_from
from layers.errors import LayerError, LayerExists, LayerNotFound
from layers.models import (
    STORAGE_SRID,
    Feature,
    Layer,
    LayerVersion,
    TileGeometry,
    partition_name,
)

NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
COPY_CHUNK = 2_000
ANALYZE_FROM = 10_000
"""Imports of at least this many features analyze their partition before commit."""
ANALYZE_COLUMNS = "layer_id, fid, version_from, version_to, gemeente, draft"
DROP_LOCK_TIMEOUT = "10s"

Progress = Callable[[int, int], None]


@dataclass
class NewFeatures:
    """Checked features ready to store: EPSG:28992 geometries and attribute rows."""

    geometries: np.ndarray
    attributes: pd.DataFrame
    gemeente: np.ndarray
    """Owning gemeente statcode per feature (None where the kind has none)."""


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid layer slug, else raise :class:`LayerError`."""
    if not NAME_RE.match(name or ""):
        raise LayerError(
            f"layer name {name!r} is not a valid name: use lower-case letters, digits, '_' and '-', "
            "starting with a letter, at most 63 characters"
        )
    return name


#: Layer names starting with this are the derived layers of scenario runs
#: (``run-<id>-allocatie``, ``-milieuzones``, ``-conflicten``): reserved for the runs.
DERIVED_PREFIX = "run-"


def is_derived_name(name: str) -> bool:
    """Whether ``name`` is reserved for a scenario run's derived layers."""
    return name.startswith(DERIVED_PREFIX)


def check_user_layer_name(name: str) -> str:
    """:func:`check_name`, and refuse the names reserved for scenario runs (``run-*``)."""
    check_name(name)
    if is_derived_name(name):
        raise LayerError(
            f"layer name {name!r} is reserved: names starting with {DERIVED_PREFIX!r} are the "
            "derived layers of scenario runs (run-<id>-allocatie, -milieuzones, -conflicten); "
            "choose another --name"
        )
    return name


def version_filter(version: int | None):  # noqa: ANN201 - SQLAlchemy clause
    """Rows valid at layer ``version`` (None: the current rows)."""
    if version is None:
        return Feature.version_to.is_(None)
    return and_(
        Feature.version_from <= version,
        or_(Feature.version_to.is_(None), Feature.version_to > version),
    )


# -- reading the catalogue ------------------------------------------------------------


def orm_session(conn: Connection) -> Session:
    """An ORM session on the caller's connection and transaction (for reading rows as objects)."""
    return Session(bind=conn, expire_on_commit=False, autoflush=False)


def list_layers(conn: Connection, viewer: Viewer | None = None) -> list[LayerInfo]:
    """Every layer ``viewer`` may see (None: all) at its current version, by name.

    Feature counts and extents are those of what ``viewer`` may see (:func:`_for_viewer`).
    """
    rows = (
        orm_session(conn)
        .execute(
            select(Layer, LayerVersion)
            .join(
                LayerVersion,
                and_(
                    LayerVersion.layer_id == Layer.id, LayerVersion.version == Layer.current_version
                ),
            )
            .where(layer_visibility(viewer))
            .order_by(Layer.name)
        )
        .all()
    )
    return [_for_viewer(conn, layer, info_from(layer, lv), viewer) for layer, lv in rows]


# -- what a reader may see of a layer's metadata -----------------------------------------


@dataclass(frozen=True)
class _HiddenRows:
    """The feature rows of a layer that a viewer may not see, and the visible rows of the same
    features (to tell which edits the viewer can see): ``(fid, version_from, version_to)``."""

    hidden: tuple[tuple[int, int, int | None], ...]
    visible: tuple[tuple[int, int, int | None], ...]
    figures: dict[int, tuple[int, tuple[float, float, float, float] | None]] = field(
        default_factory=dict
    )
    """Per layer version: (feature count, extent in RD) of what the viewer sees."""


_HIDDEN_CACHE_SIZE = 1024
_hidden_cache: OrderedDict[tuple, _HiddenRows] = OrderedDict()
_hidden_lock = threading.Lock()


def _hidden_rows(conn: Connection, layer: Layer, viewer: Viewer) -> _HiddenRows:
    """The rows of ``layer`` that ``viewer`` may not see (every version), cached.

    The key holds the layer's current version and ``updated_at`` (moved by every change, and
    never the same in two transactions), so a cached entry is never stale.
    """
    key = (layer.id, layer.current_version, layer.updated_at, viewer)
    with _hidden_lock:
        found = _hidden_cache.get(key)
        if found is not None:
            _hidden_cache.move_to_end(key)
            return found
    hidden = conn.execute(
        select(Feature.fid, Feature.version_from, Feature.version_to).where(
            Feature.layer_id == layer.id,
            Feature.draft.is_(True),
            not_(feature_visibility(viewer)),
        )
    ).all()
    visible = []
    if hidden:
        visible = conn.execute(
            select(Feature.fid, Feature.version_from, Feature.version_to).where(
                Feature.layer_id == layer.id,
                Feature.fid.in_(sorted({r[0] for r in hidden})),
                feature_visibility(viewer),
            )
        ).all()
    found = _HiddenRows(tuple(map(tuple, hidden)), tuple(map(tuple, visible)))
    with _hidden_lock:
        _hidden_cache[key] = found
        while len(_hidden_cache) > _HIDDEN_CACHE_SIZE:
            _hidden_cache.popitem(last=False)
    return found


def _valid_at(row: tuple[int, int, int | None], version: int) -> bool:
    return row[1] <= version and (row[2] is None or row[2] > version)


def _figures(
    conn: Connection, layer: Layer, version: int, viewer: Viewer, rows: _HiddenRows
) -> tuple[int, tuple[float, float, float, float] | None]:
    """Feature count and RD extent of layer ``version`` as ``viewer`` sees it."""
    if version not in rows.figures:
        ext = (
            select(
                func.count().label("n"),
                func.ST_Extent(Feature.geom).label("e"),
            )
            .where(
                Feature.layer_id == layer.id,
                version_filter(None if version == layer.current_version else version),
                feature_visibility(viewer),
            )
            .subquery()
        )
        n, *box = conn.execute(
            select(
                ext.c.n,
                func.ST_XMin(ext.c.e),
                func.ST_YMin(ext.c.e),
                func.ST_XMax(ext.c.e),
                func.ST_YMax(ext.c.e),
            )
        ).one()
        rows.figures[version] = (int(n), None if box[0] is None else tuple(map(float, box)))
    return rows.figures[version]


def _visible_change(rows: _HiddenRows, fid: int | None, version: int, change: str) -> str | None:
    """What the edit that made ``version`` is to the viewer: its ``change``, or create, update
    or delete as the viewer sees it, or None when it changed nothing the viewer may see."""
    if fid is None or not any(r[0] == fid and version in (r[1], r[2]) for r in rows.hidden):
        return change
    starts = any(r[0] == fid and r[1] == version for r in rows.visible)
    ends = any(r[0] == fid and r[2] == version for r in rows.visible)
    if starts and ends:
        return change if change in ("update", "restore") else "update"
    if starts:
        return change if change in ("create", "restore") else "create"
    if ends:
        return "delete"
    return None


def _for_viewer(
    conn: Connection, layer: Layer, info: LayerInfo, viewer: Viewer | None
) -> LayerInfo:
    """``info`` as ``viewer`` may see it: counts, extent, versions and version notes computed
    for the features they may see, so that nothing of a draft shows (the public, viewers,
    a gemeente-editor for other gemeenten' drafts). The catalogue's own figures count every
    feature; they are kept when the viewer sees every feature or none is hidden."""
    if sees_every_feature(viewer):
        return info
    rows = _hidden_rows(conn, layer, viewer)
    if not rows.hidden:
        return info
    info.feature_count, info.bbox = _figures(conn, layer, info.version, viewer, rows)
    lv_fid = info.provenance.feature_fid
    change = _visible_change(rows, lv_fid, info.version, info.provenance.change or "")
    if change != info.provenance.change:
        by = info.provenance.created_by or "unknown"
        info.provenance.note = None if change is None else f"{change} of feature {lv_fid} by {by}"
    shown = []
    for v in info.versions:
        vchange = _visible_change(rows, v.get("feature_fid"), v["version"], v["change"])
        if vchange is None:
            continue
        hidden_then = sum(1 for r in rows.hidden if _valid_at(r, v["version"]))
        shown.append({**v, "change": vchange, "feature_count": v["feature_count"] - hidden_then})
    info.versions = shown
    return info


def _layer_row(
    conn: Connection, name: str, *, lock: bool = False, viewer: Viewer | None = None
) -> Layer:
    stmt = select(Layer).where(Layer.name == name, layer_visibility(viewer))
    if lock:
        stmt = stmt.with_for_update()
    layer = orm_session(conn).execute(stmt).scalars().first()
    if layer is None:
        raise LayerNotFound(f"no layer named {name!r}", layer_name=name)
    return layer


def get_layer(
    conn: Connection,
    name: str,
    version: int | None = None,
    viewer: Viewer | None = None,
    *,
    with_versions: bool = True,
) -> LayerInfo:
    """One layer; ``version`` pins an earlier one.

    A layer ``viewer`` may not see does not exist for them (:class:`LayerNotFound`).
    ``with_versions=False`` skips the list of all versions (hot paths: features, tiles).
    """
    layer = _layer_row(conn, name, viewer=viewer)
    wanted = version or layer.current_version
    stmt = select(LayerVersion).where(LayerVersion.layer_id == layer.id)
    if not with_versions:
        stmt = stmt.where(LayerVersion.version == wanted)
    versions = orm_session(conn).execute(stmt.order_by(LayerVersion.version)).scalars().all()
    lv = next((v for v in versions if v.version == wanted), None)
    if lv is None:
        known = (
            orm_session(conn)
            .execute(
                select(LayerVersion.version)
                .where(LayerVersion.layer_id == layer.id)
                .order_by(LayerVersion.version)
            )
            .scalars()
            .all()
        )
        raise LayerNotFound(
            f"layer {name!r} has no version {wanted}; versions: {', '.join(map(str, known))}"
        )
    info = _for_viewer(conn, layer, info_from(layer, lv, versions if with_versions else ()), viewer)
    if with_versions:
        info.quality = get_version_quality(conn, layer.id, lv.version)
        info.quality_read = True
    return info


def get_version_quality(conn: Connection, layer_id: int, version: int) -> dict | None:
    """The data-quality report stored with a layer version (None where there is none)."""
    return conn.execute(
        select(LayerVersion.quality).where(
            LayerVersion.layer_id == layer_id, LayerVersion.version == version
        )
    ).scalar_one_or_none()


def set_version_quality(conn: Connection, layer_id: int, version: int, report: dict) -> None:
    """Store the data-quality report of a layer version (in the caller's transaction)."""
    conn.execute(
        update(LayerVersion)
        .where(LayerVersion.layer_id == layer_id, LayerVersion.version == version)
        .values(quality=report)
    )


def version_fids(conn: Connection, layer_id: int, version: int) -> np.ndarray:
    """Feature ids of the rows a version added, in the order they were written (fid order)."""
    # One array, which psycopg decodes in C (binary), instead of 100,000 result rows.
    raw = conn.connection.driver_connection
    with raw.cursor(binary=True) as cur:
        cur.execute(
            "SELECT array_agg(fid ORDER BY fid) FROM features "
            "WHERE layer_id = %s AND version_from = %s",
            [layer_id, version],
        )
        fids = cur.fetchone()[0]
    return np.array(fids or [], dtype=np.int64)


def set_layer_meta(
    conn: Connection,
    name: str,
    *,
    published: bool | None = None,
    title: str | None = None,
    description: str | None = None,
) -> LayerInfo:
    """Publish or unpublish a layer, or change its title or description."""
    layer = _layer_row(conn, name, lock=True)
    values: dict[str, object] = {"updated_at": func.now()}
    if published is not None:
        values["published"] = published
    if title is not None:
        values["title"] = title
    if description is not None:
        values["description"] = description
    conn.execute(update(Layer).where(Layer.id == layer.id).values(**values))
    return get_layer(conn, name)


def delete_layer(conn: Connection, name: str) -> int:
    """Delete a layer, all its versions and features; return the number of feature rows removed.

    The layer's partition is dropped, which locks ``features`` for the rest of the
    transaction: a delete waits at most ``DROP_LOCK_TIMEOUT`` for running reads.
    """
    layer = _layer_row(conn, name, lock=True)
    count = conn.execute(
        select(func.count()).select_from(Feature).where(Feature.layer_id == layer.id)
    ).scalar_one()
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{DROP_LOCK_TIMEOUT}'")
    try:
        with conn.begin_nested():
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {partition_name(layer.id)}")
    except OperationalError as exc:
        raise LayerError(
            f"layer {name!r} is being read right now and could not be deleted; try again"
        ) from exc
    conn.exec_driver_sql("SET LOCAL lock_timeout TO DEFAULT")
    conn.execute(delete(TileGeometry).where(TileGeometry.layer_id == layer.id))
    conn.execute(delete(Layer).where(Layer.id == layer.id))
    return int(count)


# -- writing ----------------------------------------------------------------------------


def store_layer(
    conn: Connection,
    *,
    name: str,
    kind: str,
    title: str | None,
    description: str | None,
    geometry_type: str,
    features: NewFeatures,
    provenance: Provenance,
    extra_fields: dict[str, str],
    new_version: bool = False,
    progress: Progress | None = None,
) -> LayerInfo:
    """Store features as a new layer, or as a new version of an existing one.

    A taken name is refused (:class:`LayerExists`) unless ``new_version``: then the
    current features are closed at the new version and the new ones start there.
    The caller's transaction makes this all or nothing.
    """
    check_name(name)
    existing = (
        orm_session(conn)
        .execute(select(Layer).where(Layer.name == name).with_for_update())
        .scalars()
        .first()
    )
    if existing is not None and not new_version:
        raise LayerExists(
            f"layer {name!r} already exists (version {existing.current_version}, kind {existing.kind}); "
            "use --new-version to store these features as its next version, or choose another --name"
        )
    if existing is not None and existing.kind != kind:
        raise LayerExists(
            f"layer {name!r} is of kind {existing.kind!r}; a new version must have the same kind, not {kind!r}"
        )
    if existing is None:
        try:
            with conn.begin_nested():
                layer_id = conn.execute(
                    Layer.__table__.insert()
                    .values(
                        name=name,
                        title=title or name,
                        description=description or "",
                        kind=kind,
                        geometry_type=geometry_type,
                        current_version=1,
                    )
                    .returning(Layer.id)
                ).scalar_one()
        except IntegrityError as exc:
            raise LayerExists(
                f"layer {name!r} was created by someone else just now; try again"
            ) from exc
        version = 1
        # Not attached yet: the rows go in without index maintenance, and attaching it
        # below builds its indexes in one pass each. A table of that name can only be
        # left over from a layer row removed by hand (the id was just issued): drop it.
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {partition_name(layer_id)}")
        conn.exec_driver_sql(
            f"CREATE TABLE {partition_name(layer_id)} (LIKE features INCLUDING DEFAULTS)"
        )
    else:
        layer_id = existing.id
        version = existing.current_version + 1
        conn.execute(
            update(Feature)
            .where(Feature.layer_id == layer_id, Feature.version_to.is_(None))
            .values(version_to=version)
        )
        values = {
            "current_version": version,
            "geometry_type": geometry_type,
            "updated_at": func.now(),
        }
        if title:
            values["title"] = title
        if description:
            values["description"] = description
        conn.execute(update(Layer).where(Layer.id == layer_id).values(**values))

    bounds = shapely.total_bounds(features.geometries) if len(features.geometries) else None
    has_bounds = bounds is not None and np.isfinite(bounds).all()
    conn.execute(
        LayerVersion.__table__.insert().values(
            layer_id=layer_id,
            version=version,
            change="import" if version == 1 else "new-version",
            source=provenance.source,
            source_format=provenance.source_format,
            source_crs=provenance.source_crs,
            source_date=provenance.source_date,
            licence=provenance.licence,
            attribution=provenance.attribution,
            synthetic=provenance.synthetic,
            note=provenance.note,
            created_by=provenance.created_by,
            feature_count=len(features.geometries),
            minx=float(bounds[0]) if has_bounds else None,
            miny=float(bounds[1]) if has_bounds else None,
            maxx=float(bounds[2]) if has_bounds else None,
            maxy=float(bounds[3]) if has_bounds else None,
            extra_fields=extra_fields,
        )
    )
    copy_features(
        conn, layer_id, version, features, created_by=provenance.created_by, progress=progress
    )
    if existing is None:
        conn.exec_driver_sql(
            f"ALTER TABLE features ATTACH PARTITION {partition_name(layer_id)} FOR VALUES IN ({layer_id})"
        )
    if len(features.geometries) >= ANALYZE_FROM:
        # Statistics the planner needs at once: that every row has this layer_id (without
        # them it guesses 0.5 % of the rows, and a page of a fresh 100,000-row layer took
        # 4x as long through a hash join over all of them), the fid order, which rows are
        # current, per gemeente. The geometry and the JSONB properties, which cost far more
        # to sample, are left to autovacuum, which analyzes the new partition within a
        # minute or so.
        conn.exec_driver_sql(f"ANALYZE {partition_name(layer_id)} ({ANALYZE_COLUMNS})")
    return get_layer(conn, name)


def properties_json(attributes: pd.DataFrame) -> list[str]:
    """One JSON object per row, nulls kept, full float precision."""
    if attributes.shape[1] == 0:
        return ["{}"] * len(attributes)
    text = attributes.to_json(
        orient="records", lines=True, force_ascii=False, double_precision=15, date_format="iso"
    )
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def copy_features(
    conn: Connection,
    layer_id: int,
    version: int,
    features: NewFeatures,
    *,
    created_by: str | None = None,
    progress: Progress | None = None,
) -> None:
    """Write features into the layer's partition with a binary COPY, in the caller's transaction.

    Rows are encoded a chunk at a time, so that the server stores one chunk while the next
    is encoded. Binary COPY sends the EWKB as it is and JSON without escaping, which
    the server takes faster than text. ``progress`` hears (0, n) when the COPY starts,
    the rows sent after each chunk, and (n, n) once the server has taken them all.
    """
    n = len(features.geometries)
    if n == 0:
        return
    geometries = np.asarray(features.geometries, dtype=object)
    attributes = features.attributes.reset_index(drop=True)
    gem = features.gemeente
    head = _BINARY_ROW_HEAD.pack(len(COPY_COLUMNS), 4, int(layer_id), 4, int(version))
    tail = _binary_text(created_by)
    raw = conn.connection.driver_connection
    if progress:
        progress(0, n)
    with raw.cursor() as cur:
        # A writer thread sends each chunk while this one encodes the next.
        with cur.copy(
            f"COPY {partition_name(layer_id)} ({', '.join(COPY_COLUMNS)}) FROM STDIN (FORMAT binary)",
            writer=QueuedLibpqWriter(cur),
        ) as copy:
            copy.write(_BINARY_SIGNATURE)
            for start in range(0, n, COPY_CHUNK):
                stop = min(start + COPY_CHUNK, n)
                wkb = shapely.to_wkb(geometries[start:stop], byte_order=1)
                props = properties_json(attributes.iloc[start:stop])
                rows = _binary_rows_arrow(head, gem[start:stop], wkb, props, tail)
                if rows is None:
                    rows = _binary_rows(head, gem[start:stop], wkb, props, tail)
                copy.write(rows)
                if progress and stop < n:
                    progress(stop, n)
            copy.write(_BINARY_TRAILER)
    if progress:
        progress(n, n)


COPY_COLUMNS = ("layer_id", "version_from", "gemeente", "geom", "properties", "created_by")
_BINARY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
"""Binary COPY header: signature, flags, header extension length."""
_BINARY_TRAILER = struct.pack("!h", -1)
_BINARY_ROW_HEAD = struct.Struct("!hiiii")
"""Field count, then layer_id and version_from as int4 (length 4 each)."""
_LENGTH = struct.Struct("!i").pack
_BINARY_NULL = _LENGTH(-1)
_JSONB_VERSION = b"\x01"
_UINT32_LE = struct.Struct("<I").pack
_EWKB_SRID_FLAG = 0x20000000
_STORAGE_SRID_LE = _UINT32_LE(STORAGE_SRID)


def _binary_text(value: str | None) -> bytes:
    """A text field in binary COPY: length and UTF-8, or NULL for None and ''."""
    if not isinstance(value, str) or not value:
        return _BINARY_NULL
    data = value.encode()
    return _LENGTH(len(data)) + data


def _int32_be(values: np.ndarray) -> pa.Array:
    """Big-endian int32 values as a binary array of 4-byte values (COPY field lengths)."""
    data = np.asarray(values, dtype=">i4").tobytes()
    offsets = np.arange(0, 4 * len(values) + 1, 4, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.binary(), len(values), [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data)]
    )


def _binary_rows_arrow(
    head: bytes, gemeente: Sequence, wkb: Sequence[bytes], props: list[str], tail: bytes
) -> bytes | None:
    """:func:`_binary_rows` over whole columns with Arrow compute (in C, without the GIL);
    the same bytes. None where a value is not as that expects (the loop handles it)."""
    if not len(wkb):
        return b""
    try:
        w = pa.array(wkb, pa.binary())
        gem = pa.array(gemeente, pa.string()).cast(pa.binary())
        js = pa.array(props, pa.string()).cast(pa.binary())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if w.null_count or js.null_count:
        return None
    # Little-endian WKB to EWKB: its 5-byte head (byte order, type) becomes the byte order,
    # the type with the SRID flag and the SRID; a layer has few distinct heads.
    heads = pc.binary_slice(w, 0, 5)
    distinct = pc.unique(heads)
    patched = []
    for h in distinct.to_pylist():
        if len(h) < 5 or h[0] != 1:
            return None
        patched.append(
            h[:1]
            + _UINT32_LE(int.from_bytes(h[1:5], "little") | _EWKB_SRID_FLAG)
            + _STORAGE_SRID_LE
        )
    ewkb_heads = pa.array(patched, pa.binary()).take(pc.index_in(heads, distinct))
    gem_len = pc.binary_length(gem).fill_null(0).to_numpy()
    gem_len = np.where(gem_len == 0, -1, gem_len)  # None and "" are NULL
    rows = pc.binary_join_element_wise(
        pa.scalar(head, pa.binary()),
        _int32_be(gem_len),
        gem.fill_null(b""),
        _int32_be(pc.binary_length(w).to_numpy() + 4),
        ewkb_heads,
        pc.binary_slice(w, 5, 2**31 - 1),
        _int32_be(pc.binary_length(js).to_numpy() + 1),
        pa.scalar(_JSONB_VERSION, pa.binary()),
        js,
        pa.scalar(tail, pa.binary()),
        pa.scalar(b"", pa.binary()),
    )
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)[rows.offset :]
    return rows.buffers()[2][offsets[0] : offsets[len(rows)]].to_pybytes()


def _binary_rows(
    head: bytes, gemeente: Sequence, wkb: Sequence[bytes], props: list[str], tail: bytes
) -> bytes:
    """Binary COPY tuples: ``head`` (count, layer_id, version), gemeente, EWKB, JSONB, ``tail``.

    ``wkb`` is little-endian WKB without SRID; it goes out as EWKB with the storage SRID.
    """
    parts: list[bytes] = []
    add = parts.append
    for g, w, p in zip(gemeente, wkb, props, strict=True):
        add(head)
        add(_binary_text(g))
        # Little-endian WKB to EWKB: the SRID flag in the type, the SRID after it. Cheaper
        # than GEOS copying every geometry to give it an SRID (shapely.set_srid).
        add(_LENGTH(len(w) + 4))
        add(w[:1])
        add(_UINT32_LE(int.from_bytes(w[1:5], "little") | _EWKB_SRID_FLAG))
        add(_STORAGE_SRID_LE)
        add(w[5:])
        data = p.encode()
        add(_LENGTH(len(data) + 1))
        add(_JSONB_VERSION)
        add(data)
        add(tail)
    return b"".join(parts)


# -- reading features -----------------------------------------------------------------


@dataclass
class FeatureFrame:
    """Features of one layer version: ids, EPSG:28992 geometries and a property table."""

    info: LayerInfo
    fids: np.ndarray
    geometries: np.ndarray
    properties: pd.DataFrame
    gemeente: np.ndarray


def rows_filter(
    info: LayerInfo, version: int | None, viewer: Viewer | None, table: str = ""
) -> tuple[str, dict[str, object]]:
    """The SQL condition (psycopg parameters) for the feature rows of ``info`` at ``version``
    (None: current) that ``viewer`` may see (None: every row), as :func:`read_features` reads;
    the columns qualified by ``table`` (an alias of ``features``) when given."""
    t = f"{table}." if table else ""
    flt = f"{t}layer_id = %(layer)s AND " + (
        f"{t}version_to IS NULL"
        if version is None
        else f"{t}version_from <= %(v)s AND ({t}version_to IS NULL OR {t}version_to > %(v)s)"
    )
    if viewer is not None and viewer.see_all and not viewer.drafts:
        flt += f" AND NOT {t}draft"
    elif viewer is not None and not viewer.see_all:
        flt += f" AND (NOT {t}draft" + (f" OR {t}gemeente = %(own)s)" if viewer.gemeente else ")")
    return flt, {"layer": info.id, "v": version, "own": viewer.gemeente if viewer else None}


def read_features(
    conn: Connection, name: str, version: int | None = None, viewer: Viewer | None = None
) -> FeatureFrame:
    """All features of a layer at its current (or a pinned) version, ordered by ``fid``.

    ``viewer`` leaves out what they may not see (drafts of other gemeenten, unpublished
    layers); None reads everything (scenario runs, internal use).
    """
    info = get_layer(conn, name, version, viewer)
    raw = conn.connection.driver_connection
    flt, params = rows_filter(info, version, viewer)
    with raw.cursor(binary=True) as cur:
        cur.execute(
            f"SELECT fid, ST_AsBinary(geom), properties::text, gemeente FROM features "  # noqa: S608 - fixed text
            f"WHERE {flt} ORDER BY fid",
            params,
        )
        rows = cur.fetchall()
    if rows:
        fids, wkb, props, gem = zip(*rows, strict=True)
    else:
        fids, wkb, props, gem = (), (), (), ()
    geoms = (
        shapely.from_wkb(np.array([bytes(b) for b in wkb], dtype=object))
        if wkb
        else np.array([], dtype=object)
    )
    # One parse of a JSON array instead of a json.loads call per row: same dicts, half the time.
    records = json.loads("[" + ",".join(props) + "]") if props else []
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    return FeatureFrame(
        info=info,
        fids=np.array(fids, dtype=np.int64),
        geometries=np.asarray(geoms, dtype=object),
        properties=frame,
        gemeente=np.array(gem, dtype=object),
    )
