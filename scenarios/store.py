"""Scenario specs, runs and rasters in PostGIS.

Functions take a SQLAlchemy ``Connection`` inside the caller's transaction (as
:mod:`layers.store` does); the caller commits or rolls back.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, text, update

from scenarios.errors import RasterNotFound, RunNotFound, SpecNotFound
from scenarios.models import ScenarioRaster, ScenarioRun, ScenarioSpecVersion
from scenarios.result import RunResult
from scenarios.spec import ScenarioSpec


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal content, equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def spec_hash(spec: ScenarioSpec) -> str:
    """SHA-256 of the spec's canonical JSON."""
    return hashlib.sha256(canonical_json(spec.as_dict()).encode("utf-8")).hexdigest()


@dataclass
class SpecRecord:
    """A saved spec version."""

    id: int
    name: str
    version: int
    title: str
    spec: dict[str, Any]
    spec_hash: str
    created_at: datetime
    versions: int = 1

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "name": self.name,
            "version": self.version,
            "versions": self.versions,
            "title": self.title,
            "created_at": self.created_at.isoformat(),
            "spec_hash": self.spec_hash,
            "spec": self.spec,
        }


@dataclass
class RunRecord:
    """A run (case) of a spec version."""

    id: int
    spec_name: str
    spec_version: int
    status: str
    started_at: datetime
    finished_at: datetime | None
    timing: dict[str, float]
    software_version: str
    layer_versions: dict[str, int]
    output_layers: dict[str, str]
    result: RunResult | None
    error: str | None
    rasters: list[str]

    def as_dict(self, with_result: bool = True) -> dict[str, Any]:
        """JSON-friendly form (the result is left out with ``with_result=False``)."""
        out = {
            "id": self.id,
            "spec_name": self.spec_name,
            "spec_version": self.spec_version,
            "status": self.status,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "timing": self.timing,
            "software_version": self.software_version,
            "layer_versions": self.layer_versions,
            "output_layers": self.output_layers,
            "rasters": self.rasters,
            "error": self.error,
        }
        if with_result:
            out["result"] = None if self.result is None else self.result.as_json()
        return out


def _spec_record(row: ScenarioSpecVersion | Any, versions: int = 1) -> SpecRecord:
    return SpecRecord(
        id=row.id,
        name=row.name,
        version=row.version,
        title=row.title,
        spec=row.spec,
        spec_hash=row.spec_hash,
        created_at=row.created_at,
        versions=versions,
    )


def save_spec(conn: Connection, spec: ScenarioSpec, created_by: str | None = None) -> SpecRecord:
    """Store a validated spec; a new version when the name exists with other content.

    Saving content equal to the newest version returns that version (no duplicate).
    """
    table = ScenarioSpecVersion.__table__
    conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"scenario_spec:{spec.name}"}
    )
    latest = conn.execute(
        select(table).where(table.c.name == spec.name).order_by(table.c.version.desc()).limit(1)
    ).first()
    digest = spec_hash(spec)
    if latest is not None and latest.spec_hash == digest:
        return _spec_record(latest, latest.version)
    version = 1 if latest is None else latest.version + 1
    row = conn.execute(
        table.insert()
        .values(
            name=spec.name,
            version=version,
            title=spec.title,
            spec=spec.as_dict(),
            spec_hash=digest,
            created_by=created_by,
        )
        .returning(*table.c)
    ).first()
    return _spec_record(row, version)


def get_spec(conn: Connection, name: str, version: int | None = None) -> SpecRecord:
    """A saved spec: its newest version, or ``version``."""
    table = ScenarioSpecVersion.__table__
    stmt = select(table).where(table.c.name == name)
    stmt = (
        stmt.where(table.c.version == version) if version else stmt.order_by(table.c.version.desc())
    )
    row = conn.execute(stmt.limit(1)).first()
    if row is None:
        what = (
            f"version {version} of scenario spec {name!r}" if version else f"scenario spec {name!r}"
        )
        raise SpecNotFound(f"no {what}")
    count = conn.execute(
        select(func.count()).select_from(table).where(table.c.name == name)
    ).scalar_one()
    return _spec_record(row, count)


def list_specs(conn: Connection) -> list[SpecRecord]:
    """The newest version of every saved spec, by name."""
    table = ScenarioSpecVersion.__table__
    counts = (
        select(table.c.name, func.max(table.c.version).label("latest"), func.count().label("n"))
        .group_by(table.c.name)
        .subquery()
    )
    rows = conn.execute(
        select(table, counts.c.n)
        .join(counts, (counts.c.name == table.c.name) & (counts.c.latest == table.c.version))
        .order_by(table.c.name)
    ).all()
    return [_spec_record(row, row.n) for row in rows]


def create_run(
    conn: Connection, spec: SpecRecord, software_version: str, created_by: str | None = None
) -> int:
    """A new run in status ``running``; returns its id."""
    return conn.execute(
        ScenarioRun.__table__.insert()
        .values(
            spec_id=spec.id,
            spec_name=spec.name,
            spec_version=spec.version,
            status="running",
            software_version=software_version,
            created_by=created_by,
        )
        .returning(ScenarioRun.__table__.c.id)
    ).scalar_one()


def finish_run(
    conn: Connection,
    run_id: int,
    *,
    result: RunResult,
    timing: dict[str, float],
    layer_versions: dict[str, int],
    output_layers: dict[str, str],
) -> None:
    """Record a run's outcome (status ``done``)."""
    conn.execute(
        update(ScenarioRun)
        .where(ScenarioRun.id == run_id)
        .values(
            status="done",
            finished_at=func.now(),
            result=result.as_json(),
            timing=timing,
            layer_versions=layer_versions,
            output_layers=output_layers,
        )
    )


def fail_run(conn: Connection, run_id: int, error: str, timing: dict[str, float]) -> None:
    """Record that a run failed, with a user-safe message."""
    conn.execute(
        update(ScenarioRun)
        .where(ScenarioRun.id == run_id)
        .values(status="failed", finished_at=func.now(), error=error[:4000], timing=timing)
    )


def put_raster(conn: Connection, run_id: int, name: str, content: bytes, description: str) -> None:
    """Store a GeoTIFF of a run."""
    conn.execute(
        ScenarioRaster.__table__.insert().values(
            run_id=run_id, name=name, content=content, description=description
        )
    )


def _raster_names(conn: Connection, run_id: int) -> list[str]:
    table = ScenarioRaster.__table__
    return list(
        conn.execute(
            select(table.c.name).where(table.c.run_id == run_id).order_by(table.c.name)
        ).scalars()
    )


def get_raster(conn: Connection, run_id: int, name: str) -> bytes:
    """The GeoTIFF bytes of raster ``name`` of a run."""
    table = ScenarioRaster.__table__
    content = conn.execute(
        select(table.c.content).where(table.c.run_id == run_id, table.c.name == name)
    ).scalar_one_or_none()
    if content is None:
        get_run(conn, run_id, with_result=False)
        names = ", ".join(_raster_names(conn, run_id)) or "none"
        raise RasterNotFound(f"run {run_id} has no raster {name!r}; its rasters: {names}")
    return bytes(content)


def _run_record(row: Any, rasters: list[str], with_result: bool) -> RunRecord:
    return RunRecord(
        id=row.id,
        spec_name=row.spec_name,
        spec_version=row.spec_version,
        status=row.status,
        started_at=row.started_at,
        finished_at=row.finished_at,
        timing=row.timing or {},
        software_version=row.software_version,
        layer_versions=row.layer_versions or {},
        output_layers=row.output_layers or {},
        result=RunResult.model_validate(row.result) if with_result and row.result else None,
        error=row.error,
        rasters=rasters,
    )


def get_run(conn: Connection, run_id: int, with_result: bool = True) -> RunRecord:
    """One run, with its JSON result."""
    table = ScenarioRun.__table__
    columns = [c for c in table.c if with_result or c.name != "result"]
    row = conn.execute(select(*columns).where(table.c.id == run_id)).first()
    if row is None:
        raise RunNotFound(f"no scenario run with id {run_id}")
    return _run_record(row, _raster_names(conn, run_id), with_result)


def list_runs(
    conn: Connection, spec_name: str | None = None, limit: int | None = None
) -> list[RunRecord]:
    """Runs, newest first (without their results)."""
    table = ScenarioRun.__table__
    stmt = select(*[c for c in table.c if c.name != "result"]).order_by(table.c.id.desc())
    if spec_name:
        stmt = stmt.where(table.c.spec_name == spec_name)
    if limit:
        stmt = stmt.limit(limit)
    return [_run_record(row, [], with_result=False) for row in conn.execute(stmt).all()]
