"""``/healthz`` (the process answers) and ``/readyz`` (database reachable, migrations at head)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.database import current_revision, head_revision
from app.dependencies import EngineDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    """Always 200 while the process serves requests."""
    return {"status": "ok"}


@router.get("/readyz", summary="Ready to serve: database reachable and migrated")
def readyz(engine: EngineDep) -> JSONResponse:
    """200 when the database answers and is at the newest migration, else 503 with the reason."""
    head = head_revision()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        reason = str(exc).splitlines()[0][:200]
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "reason": reason}, status_code=503
        )
    if current != head:
        return JSONResponse(
            {
                "status": "unavailable",
                "database": "reachable",
                "migration": current,
                "migration_head": head,
            },
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": "reachable", "migration": current})
