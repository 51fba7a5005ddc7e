"""tile_geometries: feature geometry in Web Mercator for vector tiles

Issue 14: a WebMercatorQuad tile spent most of its time transforming RD New to EPSG:3857
(about a microsecond per vertex). A feature row's geometry never changes, so it is transformed
once, after a layer version is first tiled, and kept here by (layer_id, fid, version_from),
with the row's created_at so that an entry is only ever used for the row it was made from.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 08:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from geoalchemy2 import Geometry

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tile_geometries",
        sa.Column("layer_id", sa.Integer(), nullable=False),
        sa.Column("fid", sa.BigInteger(), nullable=False),
        sa.Column("version_from", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                srid=3857,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("layer_id", "fid", "version_from", name=op.f("pk_tile_geometries")),
    )


def downgrade() -> None:
    op.drop_table("tile_geometries")
