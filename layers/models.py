"""Database schema of the layer catalogue and feature store.

Four tables:

``layers``
    One row per kaartlaag (its slug ``name``, kind, geometry type, current version).
``layer_versions``
    One row per version of a layer: provenance (source, date, licence, synthetic or
    real), feature count, extent, the schema of extra fields, the data-quality report
    (:mod:`layers.quality`). Every import and, later,
    every edit makes a new version, so a scenario run can pin the versions it read.
``features``
    Versioned feature rows. ``fid`` is the stable feature id; a row is valid for the
    layer versions ``version_from <= v < version_to`` (``version_to`` NULL: current).
    An edit closes the current row and adds a new one with the same ``fid``, which
    gives history without rewriting. ``gemeente`` (statcode) is the owning gemeente
    where the kind has one. Geometry is always EPSG:28992. The primary key is
    ``(layer_id, fid, version_from)``; the table has one partition per layer.
``tile_geometries``
    A feature row's geometry in Web Mercator (EPSG:3857), what WebMercatorQuad tiles are made
    from (:mod:`layers.tiles`): transformed once instead of at every tile. A feature row's
    geometry never changes (an edit adds a row), so an entry stays right for as long as its row
    exists; one whose row is gone or was made again (``created_at`` differs) is never used.

The migrations in ``alembic/versions`` create exactly this schema (a test checks).
"""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

STORAGE_SRID = 28992

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention, shared by every package's models."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Layer(Base):
    """A kaartlaag in the catalogue."""

    __tablename__ = "layers"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, server_default="")
    kind: Mapped[str] = mapped_column(String(40), index=True)
    geometry_type: Mapped[str] = mapped_column(String(40))
    current_version: Mapped[int] = mapped_column(Integer, server_default="1")
    published: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    """Unpublished layers are seen by the province (and admins) only."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    versions: Mapped[list[LayerVersion]] = relationship(
        back_populates="layer",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="LayerVersion.version",
    )


class LayerVersion(Base):
    """One version of a layer, with its provenance."""

    __tablename__ = "layer_versions"
    __table_args__ = (
        UniqueConstraint("layer_id", "version", name="uq_layer_versions_layer_version"),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("layers.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str | None] = mapped_column(Text)
    change: Mapped[str] = mapped_column(String(20), server_default="import")
    """What made this version: import, new-version, create, update, delete, restore."""
    feature_fid: Mapped[int | None] = mapped_column(BigInteger)
    """The feature a single-feature edit changed."""
    source: Mapped[str | None] = mapped_column(Text)
    """Source file name (or URL / generator) the features came from."""
    source_format: Mapped[str | None] = mapped_column(String(40))
    source_crs: Mapped[str | None] = mapped_column(String(80))
    source_date: Mapped[date | None] = mapped_column(Date)
    licence: Mapped[str | None] = mapped_column(Text)
    attribution: Mapped[str | None] = mapped_column(Text)
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    note: Mapped[str | None] = mapped_column(Text)
    feature_count: Mapped[int] = mapped_column(Integer, server_default="0")
    minx: Mapped[float | None] = mapped_column(Double)
    miny: Mapped[float | None] = mapped_column(Double)
    maxx: Mapped[float | None] = mapped_column(Double)
    maxy: Mapped[float | None] = mapped_column(Double)
    extra_fields: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    """Fields kept from the source that the kind does not define: name -> type."""
    quality: Mapped[dict | None] = mapped_column(JSONB, deferred=True)
    """The data-quality report of this version (:mod:`layers.quality`); None where none was
    made (single-feature edits, derived layers). Deferred: read by :func:`layers.store.get_layer`
    on the metadata path only."""

    layer: Mapped[Layer] = relationship(back_populates="versions")


class Feature(Base):
    """A versioned feature row (see the module docstring).

    The table is partitioned by layer (``LIST (layer_id)``): every layer has a partition
    of its own, :func:`partition_name`, made with the layer. A new layer's features are
    COPYed into its partition before it is attached, so its indexes are built in one go
    instead of row by row; deleting a layer drops its partition; a query for one layer
    reads only that layer's rows and indexes. There is no foreign key to ``layers``: the
    partition bounds tie every row to its layer, and a foreign key would make two imports
    that attach partitions at the same time deadlock on ``layers``.
    """

    __tablename__ = "features"
    __table_args__ = (
        PrimaryKeyConstraint("layer_id", "fid", "version_from", name="pk_features"),
        Index("ix_features_gemeente", "gemeente"),
        # Pages of current rows in fid order (offset paging) walk this index alone, without
        # reading the rows they skip: an index-only scan once the partition is vacuumed.
        Index(
            "ix_features_current",
            "layer_id",
            "fid",
            postgresql_include=["version_from", "draft"],
            postgresql_where=text("version_to IS NULL"),
        ),
        {"postgresql_partition_by": "LIST (layer_id)"},
    )

    fid: Mapped[int] = mapped_column(BigInteger, server_default=text("nextval('feature_fid_seq')"))
    layer_id: Mapped[int] = mapped_column(Integer)
    version_from: Mapped[int] = mapped_column(Integer)
    version_to: Mapped[int | None] = mapped_column(Integer)
    gemeente: Mapped[str | None] = mapped_column(String(6))
    draft: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    """A draft (concept) is seen only by its gemeente and the province."""
    workflow: Mapped[str] = mapped_column(String(16), server_default=text("'vastgesteld'"))
    """The feature's state in the workflow (``layers/data/workflow.yaml``): ``vastgesteld``
    (adopted, public) or a draft state (``concept``, ``ingediend``, ``teruggestuurd``);
    ``draft`` is true exactly when it is not vastgesteld."""
    workflow_reason: Mapped[str | None] = mapped_column(Text)
    """Why the province sent the feature back (``teruggestuurd``)."""
    proposal_for: Mapped[int | None] = mapped_column(BigInteger)
    """The adopted feature (fid) this concept replaces once it is adopted."""
    geom = mapped_column(
        Geometry(geometry_type="GEOMETRY", srid=STORAGE_SRID, spatial_index=True), nullable=False
    )
    properties: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str | None] = mapped_column(Text)


PARTITION_PREFIX = "features_l"


def partition_name(layer_id: int) -> str:
    """The partition of ``features`` that holds the rows of layer ``layer_id``."""
    return f"{PARTITION_PREFIX}{int(layer_id)}"


def is_partition_name(name: str) -> bool:
    """Whether ``name`` is a per-layer partition of ``features`` (not in the models)."""
    return name.startswith(PARTITION_PREFIX) and name[len(PARTITION_PREFIX) :].isdigit()


TILE_SRID = 3857
"""The CRS of :class:`TileGeometry` (WebMercatorQuad's)."""


class TileGeometry(Base):
    """A feature row's geometry in Web Mercator (see the module docstring), for vector tiles
    and pages of features in CRS84.

    Filled by :func:`layers.tile_geometries.prepare_tile_geometries` after a layer version is
    first tiled or paged in CRS84, never by the import; a row that has none is transformed when
    its tile or page is made. No foreign keys (as for ``features``): :func:`layers.store.delete_layer` removes a layer's
    entries."""

    __tablename__ = "tile_geometries"
    __table_args__ = (
        PrimaryKeyConstraint("layer_id", "fid", "version_from", name="pk_tile_geometries"),
    )

    layer_id: Mapped[int] = mapped_column(Integer)
    fid: Mapped[int] = mapped_column(BigInteger)
    version_from: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """The feature row's ``created_at``: an entry is used only for the row it was made from."""
    geom = mapped_column(
        Geometry(geometry_type="GEOMETRY", srid=TILE_SRID, spatial_index=False), nullable=False
    )
