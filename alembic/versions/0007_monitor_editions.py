"""monitor_editions: stored editions of the Ruimte monitor

Issue 17: the Ruimte indicators as a series over peildata, computed from the layer versions
valid on each date. An edition pins those versions, the software version and the monitor
configuration (milestones and rules), and keeps its figures, so that it is reproducible and
never recomputed silently.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 20:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitor_editions",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("title", sa.Text(), server_default="", nullable=False),
        sa.Column("peildata", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "layer_versions",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("software_version", sa.String(40), nullable=False),
        sa.Column("config", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("config_hash", sa.String(64), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("synthetic", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_editions")),
    )


def downgrade() -> None:
    op.drop_table("monitor_editions")
