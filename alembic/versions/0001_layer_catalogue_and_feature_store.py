"""layer catalogue and feature store

Layers, their versions (with provenance) and versioned feature rows in EPSG:28992;
see layers/models.py for the design.

Revision ID: 0001
Revises:
Create Date: 2026-11-28 01:51:52.473792
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "layers",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("geometry_type", sa.String(length=40), nullable=False),
        sa.Column("current_version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_layers")),
        sa.UniqueConstraint("name", name=op.f("uq_layers_name")),
    )
    op.create_index(op.f("ix_layers_kind"), "layers", ["kind"], unique=False)
    op.execute("CREATE SEQUENCE feature_fid_seq AS bigint")
    op.create_geospatial_table(
        "features",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "fid",
            sa.BigInteger(),
            server_default=sa.text("nextval('feature_fid_seq')"),
            nullable=False,
        ),
        sa.Column("layer_id", sa.Integer(), nullable=False),
        sa.Column("version_from", sa.Integer(), nullable=False),
        sa.Column("version_to", sa.Integer(), nullable=True),
        sa.Column("gemeente", sa.String(length=6), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                srid=28992,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "properties",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["layer_id"],
            ["layers.id"],
            name=op.f("fk_features_layer_id_layers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_features")),
    )
    op.create_geospatial_index(
        "idx_features_geom",
        "features",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index("ix_features_fid", "features", ["fid", "version_from"], unique=False)
    op.create_index("ix_features_gemeente", "features", ["gemeente"], unique=False)
    op.create_index(
        "ix_features_layer_current", "features", ["layer_id", "version_to", "fid"], unique=False
    )
    op.create_table(
        "layer_versions",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("layer_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("change", sa.String(length=20), server_default="import", nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("source_format", sa.String(length=40), nullable=True),
        sa.Column("source_crs", sa.String(length=80), nullable=True),
        sa.Column("source_date", sa.Date(), nullable=True),
        sa.Column("licence", sa.Text(), nullable=True),
        sa.Column("attribution", sa.Text(), nullable=True),
        sa.Column("synthetic", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("feature_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("minx", sa.Double(), nullable=True),
        sa.Column("miny", sa.Double(), nullable=True),
        sa.Column("maxx", sa.Double(), nullable=True),
        sa.Column("maxy", sa.Double(), nullable=True),
        sa.Column(
            "extra_fields",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["layer_id"],
            ["layers.id"],
            name=op.f("fk_layer_versions_layer_id_layers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_layer_versions")),
        sa.UniqueConstraint("layer_id", "version", name="uq_layer_versions_layer_version"),
    )


def downgrade() -> None:
    op.drop_table("layer_versions")
    op.drop_index("ix_features_layer_current", table_name="features")
    op.drop_index("ix_features_gemeente", table_name="features")
    op.drop_index("ix_features_fid", table_name="features")
    op.drop_geospatial_index(
        "idx_features_geom", table_name="features", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("features")
    op.execute("DROP SEQUENCE feature_fid_seq")
    op.drop_index(op.f("ix_layers_kind"), table_name="layers")
    op.drop_table("layers")
