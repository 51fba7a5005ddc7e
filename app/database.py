"""Engine creation and migrations.

The URL comes from ``DATABASE_URL``; without it, from the local cluster that
``ruimte db up`` manages (which must be running).
"""

from __future__ import annotations

import re
import select
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DisconnectionError

from app.localdb import LocalCluster
from app.settings import get_database_settings, get_local_database_settings

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import MetaData

# Alembic, GeoAlchemy2 and the models are imported by the functions that need them: the CLI
# checks the migration state before every command and should not pay for them (issue 14).

ROOT = Path(__file__).resolve().parent.parent
ALEMBIC_DIR = ROOT / "alembic"


class DatabaseNotConfigured(RuntimeError):
    """Neither DATABASE_URL nor a running local cluster."""


def database_url(start_local: bool = False) -> str:
    """The database to use: ``DATABASE_URL``, else the local cluster.

    With ``start_local`` the local cluster is created and started when needed.
    """
    configured = get_database_settings().database_url
    if configured:
        return configured
    cluster = LocalCluster(get_local_database_settings())
    if start_local:
        return cluster.up()
    if cluster.running():
        return cluster.url()
    raise DatabaseNotConfigured(
        "no database: set DATABASE_URL to a PostGIS database, or run `ruimte db up` to start "
        f"the project's local PostGIS cluster (data directory {cluster.data_dir})"
    )


@lru_cache(maxsize=8)
def get_engine(url: str | None = None, statement_timeout_ms: int | None = None) -> Engine:
    """A pooled engine for ``url`` (default: :func:`database_url`), cached per URL.

    Connections are checked before use (:func:`replace_closed_connections`, so the pool
    recovers after a database restart) and carry ``statement_timeout`` (default from
    ``RUIMTE_DB_STATEMENT_TIMEOUT_MS``).
    """
    timeout = (
        get_database_settings().statement_timeout_ms
        if statement_timeout_ms is None
        else statement_timeout_ms
    )
    engine = create_engine(
        url or database_url(),
        pool_size=10,
        max_overflow=10,
        # JIT off: the service's queries are short, and compiling them (40-50 ms on a big tile
        # query) costs more than it saves.
        connect_args={"options": f"-c statement_timeout={int(timeout)} -c jit=off"},
    )
    replace_closed_connections(engine)
    return engine


def replace_closed_connections(engine: Engine) -> Engine:
    """Check every connection as it leaves ``engine``'s pool without a round trip to the
    server: one the server has closed (a restart, a crash, a terminated backend) is replaced
    by a new one before the caller sees it.

    SQLAlchemy's ``pool_pre_ping`` asks the server (``SELECT 1``) on every checkout: a round
    trip per request, a good part of what a small request costs (issue 14). A server that
    closes a connection says so on its socket (its last message and the end of the stream),
    so looking whether an idle connection's socket has anything to read finds the same dead
    connections. What neither finds, a peer that vanished without closing (a network cut),
    fails on its first statement: SQLAlchemy then replaces the connections of the pool and
    the request gets the usual 503.
    """
    event.listen(engine, "checkout", _refuse_closed_connection)
    return engine


def connection_closed(dbapi_connection: object) -> bool:
    """Whether a pooled (idle) psycopg connection can no longer be used: closed or broken on
    our side, not idle, or its socket has something to read (an idle connection is sent
    nothing unless the server is closing it; anything else, such as a notice, is as well
    answered by a new connection)."""
    from psycopg import pq  # loaded with the driver; not at import (the CLI's start-up)

    try:
        if dbapi_connection.closed or dbapi_connection.broken:  # type: ignore[attr-defined]
            return True
        pgconn = dbapi_connection.pgconn  # type: ignore[attr-defined]
        if (
            pgconn.status != pq.ConnStatus.OK
            or pgconn.transaction_status != pq.TransactionStatus.IDLE
        ):
            return True
        readable, _, _ = select.select([pgconn.socket], [], [], 0)
    except Exception:  # noqa: BLE001 - anything odd about it: use a new one
        return True
    return bool(readable)


def _refuse_closed_connection(dbapi_connection, _record, _proxy) -> None:  # noqa: ANN001
    if connection_closed(dbapi_connection):
        # The pool closes it and connects anew (up to three times) before the checkout fails.
        raise DisconnectionError("the database closed this connection")


def target_metadata() -> MetaData:
    """The metadata of every model module (what migrations must match)."""
    import app.models  # noqa: F401 - users and tokens
    import scenarios.models  # noqa: F401 - scenario tables
    import scenarios.monitor_models  # noqa: F401 - monitor editions
    from layers.models import Base

    return Base.metadata


def include_object(obj, name, obj_type, reflected, compare_to) -> bool:  # noqa: ANN001
    """Autogenerate filter: skip PostGIS's own tables, GeoAlchemy2's managed indexes and
    the per-layer partitions of ``features`` (made with each layer, not by migrations)."""
    from geoalchemy2 import alembic_helpers

    from layers.models import is_partition_name

    if obj_type == "table" and (name == "spatial_ref_sys" or is_partition_name(name)):
        return False
    table = getattr(obj, "table", None)
    if table is not None and is_partition_name(table.name):
        return False
    return alembic_helpers.include_object(obj, name, obj_type, reflected, compare_to)


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at the project's migrations and ``url``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision`` (default: head)."""
    from alembic import command

    eng = create_engine(url)
    try:
        with eng.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    finally:
        eng.dispose()
    command.upgrade(alembic_config(url), revision)


_REVISION_LINE = re.compile(
    r"^(revision|down_revision)\b[^=\n]*=\s*(?:\"([^\"]*)\"|'([^']*)'|(None))\s*$", re.M
)


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration.

    Read from the ``revision`` and ``down_revision`` lines of the migration files (a linear
    history has one revision that none points back to); Alembic itself decides when the files
    say anything else (branches, merges, computed values). A test checks both agree.
    """
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in (ALEMBIC_DIR / "versions").glob("*.py"):
        found: dict[str, str | None] = {}
        for key, double, single, none in _REVISION_LINE.findall(path.read_text("utf-8")):
            found[key] = None if none else (double or single)
        if found.get("revision") is None or "down_revision" not in found:
            return alembic_head_revision()
        revisions.add(found["revision"])
        if found["down_revision"] is not None:
            downs.add(found["down_revision"])
    heads = revisions - downs
    if len(heads) != 1 or not downs <= revisions:
        return alembic_head_revision()
    return heads.pop()


def alembic_head_revision() -> str:
    """The newest migration as Alembic's script directory says."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("postgresql://"))
    head = script.get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {ALEMBIC_DIR}")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: not migrated), from Alembic's version table."""
    with engine.connect() as conn:
        if conn.execute(text("SELECT to_regclass('alembic_version')")).scalar() is None:
            return None
        rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(rows) > 1:
        raise RuntimeError(f"the database is at several migration heads: {', '.join(rows)}")
    return rows[0] if rows else None
