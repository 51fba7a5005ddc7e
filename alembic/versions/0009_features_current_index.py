"""ix_features_current: current rows of a layer in fid order, for deep pages

Issue 14: a page at ``offset=90000`` of a 100,000-feature layer scanned and sorted the whole
partition (or fetched every skipped row from the heap) to find 1,000 rows. A partial index of
the current rows by (layer_id, fid), with version_from and draft included, lets PostgreSQL walk
the skipped rows in the index alone (an index-only scan once autovacuum has set the visibility
map), so a deep page costs about what the first one does. Created on the partitioned table,
it is made on every partition (and, for a new layer, built once when its partition is attached).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_features_current",
        "features",
        ["layer_id", "fid"],
        postgresql_include=["version_from", "draft"],
        postgresql_where=sa.text("version_to IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_features_current", table_name="features")
