"""features.workflow, workflow_reason, proposal_for: concept → ingediend → vastgesteld

Issue 12: gemeenten keep their reserveringen in the browser, and only the province adopts.
Every feature row carries its workflow state (``layers/data/workflow.yaml``): ``vastgesteld``
(adopted, public: what scenario runs read) or ``concept``, ``ingediend``, ``teruggestuurd``
(drafts, seen only by the gemeente and the province; ``draft`` stays the visibility flag and
is true exactly when the state is not vastgesteld). ``workflow_reason`` holds why the province
sent a feature back; ``proposal_for`` the fid of the adopted feature a concept would replace
when adopted. Existing rows: drafts become concepts, the rest vastgesteld.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 17:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "features",
        sa.Column("workflow", sa.String(16), server_default="vastgesteld", nullable=False),
    )
    op.add_column("features", sa.Column("workflow_reason", sa.Text(), nullable=True))
    op.add_column("features", sa.Column("proposal_for", sa.BigInteger(), nullable=True))
    op.execute("UPDATE features SET workflow = 'concept' WHERE draft")


def downgrade() -> None:
    op.drop_column("features", "proposal_for")
    op.drop_column("features", "workflow_reason")
    op.drop_column("features", "workflow")
