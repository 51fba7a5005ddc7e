"""Database schema of scenario specs, runs (cases) and their rasters.

``scenario_specs``
    One row per version of a named spec (like layer versions): the validated spec as
    JSON and a hash of it, so that saving the same content again makes no new version.
``scenario_runs``
    One row per run of a spec version (a case, in the spirit of PBL's RuimteScanner:
    scenario × variant): status, timestamps, timing per step, the software version, the
    layer versions it read, the full JSON result and the derived layers it stored.
``scenario_rasters``
    The GeoTIFFs of a run (suitability, allocation, constraints) as bytes.

The migration ``alembic/versions/0002_*`` creates exactly this schema (a test checks).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from layers.models import Base


class ScenarioSpecVersion(Base):
    """One version of a saved scenario spec."""

    __tablename__ = "scenario_specs"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_scenario_specs_name_version"),)

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(63))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text, server_default="")
    spec: Mapped[dict] = mapped_column(JSONB)
    spec_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the spec's canonical JSON."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str | None] = mapped_column(Text)


class ScenarioRun(Base):
    """One run (case) of a spec version."""

    __tablename__ = "scenario_runs"
    __table_args__ = (Index("ix_scenario_runs_spec", "spec_name", "spec_version"),)

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    spec_id: Mapped[int] = mapped_column(ForeignKey("scenario_specs.id", ondelete="RESTRICT"))
    spec_name: Mapped[str] = mapped_column(String(63))
    spec_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), server_default="running")
    """running, done or failed."""
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    timing: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    """Seconds per step."""
    software_version: Mapped[str] = mapped_column(String(40))
    layer_versions: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    """{layer name: version} as read."""
    output_layers: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    """{role: layer name} of the derived layers stored."""
    result: Mapped[dict | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(Text)


class ScenarioRaster(Base):
    """A GeoTIFF of a run."""

    __tablename__ = "scenario_rasters"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("scenario_runs.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(60), server_default="image/tiff")
    description: Mapped[str] = mapped_column(Text, server_default="")
    content: Mapped[bytes] = mapped_column(LargeBinary)
