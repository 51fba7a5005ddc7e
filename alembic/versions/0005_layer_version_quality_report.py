"""layer_versions.quality: the data-quality report of each import

Issue 10: every import stores its data-quality report (bedrijventerreinen whose bruto_ha
differs from the polygon area, terreinen across gemeente borders, values repaired or
mapped) with the layer version, as JSONB; NULL where no report was made.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "layer_versions",
        sa.Column("quality", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("layer_versions", "quality")
