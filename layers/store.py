"""The layer catalogue and feature store in PostGIS.

Functions take a SQLAlchemy ``Connection`` inside the caller's transaction, so that an
import (or an API request) is all or nothing: the caller commits or rolls back.
Features are written with ``COPY`` (hex EWKB geometry, JSON properties), which is what
makes large imports fast.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from layers.access import Viewer, layer_visibility
from layers.errors import LayerError, LayerExists, LayerNotFound
from layers.models import STORAGE_SRID, Feature, Layer, LayerVersion

NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
COPY_CHUNK = 10_000
NULL = "\\N"
"""NULL in COPY's text format."""
BACKSLASH = "\\"
ESCAPED_BACKSLASH = "\\\\"

Progress = Callable[[int, int], None]


@dataclass
class Provenance:
    """Where a layer version's features came from."""

    source: str | None = None
    source_format: str | None = None
    source_crs: str | None = None
    source_date: date | None = None
    licence: str | None = None
    attribution: str | None = None
    synthetic: bool = False
    note: str | None = None
    created_by: str | None = None


@dataclass
class LayerInfo:
    """A layer as the catalogue describes it (at its current or a pinned version)."""

    id: int
    name: str
    title: str
    description: str
    kind: str
    geometry_type: str
    version: int
    current_version: int
    feature_count: int
    bbox: tuple[float, float, float, float] | None
    extra_fields: dict[str, str]
    provenance: Provenance
    created_at: datetime
    updated_at: datetime
    versions: list[dict] = field(default_factory=list)
    published: bool = True

    def as_dict(self) -> dict:
        """JSON-friendly form (CLI ``--json``, API)."""
        prov = self.provenance
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "kind": self.kind,
            "geometry_type": self.geometry_type,
            "version": self.version,
            "current_version": self.current_version,
            "feature_count": self.feature_count,
            "bbox": list(self.bbox) if self.bbox else None,
            "crs": f"EPSG:{STORAGE_SRID}",
            "extra_fields": self.extra_fields,
            "provenance": {
                "source": prov.source,
                "source_format": prov.source_format,
                "source_crs": prov.source_crs,
                "source_date": prov.source_date.isoformat() if prov.source_date else None,
                "licence": prov.licence,
                "attribution": prov.attribution,
                "synthetic": prov.synthetic,
                "note": prov.note,
            },
            "published": self.published,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "versions": self.versions,
        }


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


def version_filter(version: int | None):  # noqa: ANN201 - SQLAlchemy clause
    """Rows valid at layer ``version`` (None: the current rows)."""
    if version is None:
        return Feature.version_to.is_(None)
    return and_(
        Feature.version_from <= version,
        or_(Feature.version_to.is_(None), Feature.version_to > version),
    )


# -- reading the catalogue ------------------------------------------------------------


def _info(layer: Layer, lv: LayerVersion, versions: Sequence[LayerVersion] = ()) -> LayerInfo:
    bbox = None
    if lv.minx is not None:
        bbox = (lv.minx, lv.miny, lv.maxx, lv.maxy)
    return LayerInfo(
        id=layer.id,
        name=layer.name,
        title=layer.title,
        description=layer.description,
        kind=layer.kind,
        geometry_type=layer.geometry_type,
        version=lv.version,
        current_version=layer.current_version,
        feature_count=lv.feature_count,
        bbox=bbox,
        extra_fields=dict(lv.extra_fields or {}),
        provenance=Provenance(
            source=lv.source,
            source_format=lv.source_format,
            source_crs=lv.source_crs,
            source_date=lv.source_date,
            licence=lv.licence,
            attribution=lv.attribution,
            synthetic=lv.synthetic,
            note=lv.note,
            created_by=lv.created_by,
        ),
        created_at=layer.created_at,
        updated_at=layer.updated_at,
        published=layer.published,
        versions=[
            {
                "version": v.version,
                "created_at": v.created_at.isoformat(),
                "change": v.change,
                "feature_count": v.feature_count,
                "source": v.source,
                "synthetic": v.synthetic,
            }
            for v in versions
        ],
    )


def orm_session(conn: Connection) -> Session:
    """An ORM session on the caller's connection and transaction (for reading rows as objects)."""
    return Session(bind=conn, expire_on_commit=False, autoflush=False)


def list_layers(conn: Connection, viewer: Viewer | None = None) -> list[LayerInfo]:
    """Every layer ``viewer`` may see (None: all) at its current version, by name."""
    rows = orm_session(conn).execute(
        select(Layer, LayerVersion)
        .join(
            LayerVersion,
            and_(LayerVersion.layer_id == Layer.id, LayerVersion.version == Layer.current_version),
        )
        .where(layer_visibility(viewer))
        .order_by(Layer.name)
    ).all()
    return [_info(layer, lv) for layer, lv in rows]


def _layer_row(conn: Connection, name: str, *, lock: bool = False, viewer: Viewer | None = None) -> Layer:
    stmt = select(Layer).where(Layer.name == name, layer_visibility(viewer))
    if lock:
        stmt = stmt.with_for_update()
    layer = orm_session(conn).execute(stmt).scalars().first()
    if layer is None:
        raise LayerNotFound(f"no layer named {name!r}")
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
        known = orm_session(conn).execute(
            select(LayerVersion.version).where(LayerVersion.layer_id == layer.id).order_by(LayerVersion.version)
        ).scalars().all()
        raise LayerNotFound(f"layer {name!r} has no version {wanted}; versions: {', '.join(map(str, known))}")
    return _info(layer, lv, versions if with_versions else ())


def set_layer_meta(conn: Connection, name: str, *, published: bool | None = None,
                   title: str | None = None, description: str | None = None) -> LayerInfo:
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
    """Delete a layer, all its versions and features; return the number of feature rows removed."""
    layer = _layer_row(conn, name, lock=True)
    count = conn.execute(
        select(func.count()).select_from(Feature).where(Feature.layer_id == layer.id)
    ).scalar_one()
    conn.execute(delete(Feature).where(Feature.layer_id == layer.id))
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
    existing = orm_session(conn).execute(select(Layer).where(Layer.name == name).with_for_update()).scalars().first()
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
            raise LayerExists(f"layer {name!r} was created by someone else just now; try again") from exc
        version = 1
    else:
        layer_id = existing.id
        version = existing.current_version + 1
        conn.execute(
            update(Feature)
            .where(Feature.layer_id == layer_id, Feature.version_to.is_(None))
            .values(version_to=version)
        )
        values = {"current_version": version, "geometry_type": geometry_type, "updated_at": func.now()}
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
    copy_features(conn, layer_id, version, features, created_by=provenance.created_by, progress=progress)
    if len(features.geometries) >= 10_000:
        conn.exec_driver_sql("ANALYZE features")
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
    """Write features with COPY inside the caller's transaction.

    Rows are encoded a chunk at a time, so that the server parses and indexes one chunk
    while the next is encoded. Geometry goes as hex EWKB made with ``bytes.hex`` from
    binary WKB, several times faster than GEOS's hex writer. ``progress`` hears (0, n)
    when the COPY starts, the rows sent after each chunk, and (n, n) once the server has
    taken them all.
    """
    n = len(features.geometries)
    if n == 0:
        return
    geometries = np.asarray(features.geometries, dtype=object)
    attributes = features.attributes.reset_index(drop=True)
    gem = features.gemeente
    head = f"{layer_id}\t{version}\t"
    tail = "\t" + (_copy_text(created_by) if created_by else "\\N") + "\n"
    raw = conn.connection.driver_connection
    if progress:
        progress(0, n)
    with raw.cursor() as cur:
        with cur.copy(
            "COPY features (layer_id, version_from, gemeente, geom, properties, created_by) FROM STDIN"
        ) as copy:
            for start in range(0, n, COPY_CHUNK):
                stop = min(start + COPY_CHUNK, n)
                wkb = shapely.to_wkb(
                    shapely.set_srid(geometries[start:stop], STORAGE_SRID), include_srid=True
                )
                props = properties_json(attributes.iloc[start:stop])
                copy.write(_copy_rows(head, gem[start:stop], wkb, props, tail))
                if progress and stop < n:
                    progress(stop, n)
    if progress:
        progress(n, n)


def _copy_rows(
    head: str, gemeente: Sequence, wkb: Sequence[bytes], props: list[str], tail: str
) -> str:
    """COPY text lines: ``head``, gemeente, hex EWKB, JSON (backslashes escaped), ``tail``."""
    return "".join(
        [
            f"{head}{g if g else NULL}\t{w.hex()}\t{p.replace(BACKSLASH, ESCAPED_BACKSLASH)}{tail}"
            for g, w, p in zip(gemeente, wkb, props, strict=True)
        ]
    )


def _copy_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


# -- reading features -----------------------------------------------------------------


@dataclass
class FeatureFrame:
    """Features of one layer version: ids, EPSG:28992 geometries and a property table."""

    info: LayerInfo
    fids: np.ndarray
    geometries: np.ndarray
    properties: pd.DataFrame
    gemeente: np.ndarray


def read_features(
    conn: Connection, name: str, version: int | None = None, viewer: Viewer | None = None
) -> FeatureFrame:
    """All features of a layer at its current (or a pinned) version, ordered by ``fid``.

    ``viewer`` leaves out what they may not see (drafts of other gemeenten, unpublished
    layers); None reads everything (scenario runs, internal use).
    """
    info = get_layer(conn, name, version, viewer)
    raw = conn.connection.driver_connection
    flt = "version_to IS NULL" if version is None else "version_from <= %(v)s AND (version_to IS NULL OR version_to > %(v)s)"
    if viewer is not None and viewer.see_all and not viewer.drafts:
        flt += " AND NOT draft"
    elif viewer is not None and not viewer.see_all:
        flt += " AND (NOT draft" + (" OR gemeente = %(own)s)" if viewer.gemeente else ")")
    with raw.cursor(binary=True) as cur:
        cur.execute(
            f"SELECT fid, ST_AsBinary(geom), properties::text, gemeente FROM features "  # noqa: S608 - fixed text
            f"WHERE layer_id = %(layer)s AND {flt} ORDER BY fid",
            {"layer": info.id, "v": version, "own": viewer.gemeente if viewer else None},
        )
        rows = cur.fetchall()
    if rows:
        fids, wkb, props, gem = zip(*rows, strict=True)
    else:
        fids, wkb, props, gem = (), (), (), ()
    geoms = shapely.from_wkb(np.array([bytes(b) for b in wkb], dtype=object)) if wkb else np.array([], dtype=object)
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
