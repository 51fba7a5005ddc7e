"""Database schema of the Ruimte monitor: editions of the indicator series.

``monitor_editions``
    One row per edition: the peildata it covers, for each peildatum the layer versions it
    read (pinned, so the edition can be computed again from the same states), the software
    version, the monitor configuration used (milestones and rules, with its SHA-256), and the
    figures as JSON. An edition is computed once and then only read: pages and reports show
    the stored figures; recomputing (``ruimte monitor check``) compares and never overwrites.

The migration ``alembic/versions/0007_monitor_editions.py`` creates exactly this schema.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Identity, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from layers.models import Base


class MonitorEdition(Base):
    """One stored edition of the monitor (a series of peildata)."""

    __tablename__ = "monitor_editions"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    title: Mapped[str] = mapped_column(Text, server_default="")
    peildata: Mapped[list] = mapped_column(JSONB)
    """ISO dates of the series, ascending."""
    layer_versions: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    """{peildatum: {layer name: version}} as read (a layer absent then is absent here)."""
    software_version: Mapped[str] = mapped_column(String(40))
    config: Mapped[dict] = mapped_column(JSONB)
    """The monitor configuration used (layers, indicators, milestones, rules)."""
    config_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the configuration's canonical JSON."""
    result: Mapped[dict] = mapped_column(JSONB)
    """Figures per peildatum and the milestone statuses (:mod:`scenarios.monitor`)."""
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    """Whether any layer read is synthetic (demo data)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str | None] = mapped_column(Text)
