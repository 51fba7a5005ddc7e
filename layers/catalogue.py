"""The layer catalogue as the CLI and the API describe it: :class:`LayerInfo`, read light.

This module needs only SQLAlchemy Core: :func:`list_catalogue` reads every layer at its current
version with one query, for ``ruimte layers list`` (which starts without numpy, pandas, the ORM
models or GeoAlchemy). Readers that apply the visibility rules use :mod:`layers.store`, which
builds the same :class:`LayerInfo` with :func:`info_from`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

if TYPE_CHECKING:
    from sqlalchemy import Connection

#: The CRS features are stored in (repeated as a plain number so that this module needs no
#: models; ``layers.models.STORAGE_SRID`` is the same, a test says so).
STORAGE_SRID = 28992


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
    change: str | None = None
    """What made the version (import, new-version, create, update, delete, restore)."""
    feature_fid: int | None = None
    """The feature a single-feature edit changed."""


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
    quality: dict | None = None
    """The version's data-quality report (:mod:`layers.quality`), when read."""
    quality_read: bool = False
    """Whether :attr:`quality` was read (the metadata path); lists leave it out."""

    def as_dict(self) -> dict:
        """JSON-friendly form (CLI ``--json``, API); ``quality`` where it was read."""
        prov = self.provenance
        doc = {
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
        if self.quality_read:
            doc["quality"] = self.quality
        return doc


def info_from(layer: Any, lv: Any, versions: Sequence[Any] = ()) -> LayerInfo:
    """A :class:`LayerInfo` from a layer row and a version row (ORM objects or Core rows: any
    object with the columns as attributes), with ``versions`` listed."""
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
            change=lv.change,
            feature_fid=lv.feature_fid,
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
                "feature_fid": v.feature_fid,
            }
            for v in versions
        ],
    )


_LAYER_COLUMNS = (
    "id",
    "name",
    "title",
    "description",
    "kind",
    "geometry_type",
    "current_version",
    "published",
    "created_at",
    "updated_at",
)
_VERSION_COLUMNS = (
    "version",
    "created_at",
    "created_by",
    "change",
    "feature_fid",
    "source",
    "source_format",
    "source_crs",
    "source_date",
    "licence",
    "attribution",
    "synthetic",
    "note",
    "feature_count",
    "minx",
    "miny",
    "maxx",
    "maxy",
    "extra_fields",
)
_CATALOGUE_SQL = text(
    "SELECT "
    + ", ".join(f"l.{c} AS l_{c}" for c in _LAYER_COLUMNS)
    + ", "
    + ", ".join(f"v.{c} AS v_{c}" for c in _VERSION_COLUMNS)
    + " FROM layers l JOIN layer_versions v"
    " ON v.layer_id = l.id AND v.version = l.current_version ORDER BY l.name"
)


def list_catalogue(conn: Connection) -> list[LayerInfo]:
    """Every layer at its current version, by name, with the catalogue's own figures (every
    feature counted: the view of a reader who sees everything, like the CLI)."""
    infos = []
    for row in conn.execute(_CATALOGUE_SQL).mappings():
        layer = SimpleNamespace(**{c: row[f"l_{c}"] for c in _LAYER_COLUMNS})
        lv = SimpleNamespace(**{c: row[f"v_{c}"] for c in _VERSION_COLUMNS})
        infos.append(info_from(layer, lv))
    return infos
