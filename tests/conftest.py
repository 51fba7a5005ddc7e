"""Test fixtures: a real PostGIS for the whole run, a fresh database, clean tables per test.

The server is ``RUIMTE_TEST_DATABASE_URL`` (a role that may create databases) when set;
otherwise a throwaway cluster is created in /tmp with the project's own
:class:`app.localdb.LocalCluster` (initdb as ``postgres`` when running as root) and
removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.database import migrate
from app.localdb import LocalCluster
from app.settings import LocalDatabaseSettings

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("RUIMTE_SHARED_DATA", ROOT.parent / "shared" / "data"))
DATA_TABLES = (
    "monitor_editions",
    "scenario_rasters",
    "scenario_runs",
    "scenario_specs",
    "features",
    "tile_geometries",
    "layer_versions",
    "layers",
    "api_tokens",
    "users",
)


def empty_data_tables(engine) -> None:
    """Empty every data table and drop the per-layer partitions of ``features``."""
    with engine.begin() as conn:
        partitions = (
            conn.execute(
                text(
                    "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'features'::regclass"
                )
            )
            .scalars()
            .all()
        )
        for name in partitions:
            conn.execute(text(f'DROP TABLE "{name}"'))
        conn.execute(text(f"TRUNCATE {', '.join(DATA_TABLES)} RESTART IDENTITY CASCADE"))


#: Every database fixture depends on one of these (the shared test server, or a cluster of a
#: module's own), so a test that uses them, directly or not, needs PostGIS.
DB_FIXTURES = frozenset({"pg_server", "own_cluster"})


def pytest_collection_modifyitems(config, items) -> None:
    """Mark every test that uses the database fixtures ``db``, so that ``-m "not db"`` runs the
    fast subset that needs no PostGIS (no cluster is started for it)."""
    for item in items:
        if DB_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_server():
    """URL of a PostGIS server where the tests may create databases."""
    configured = os.environ.get("RUIMTE_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    base = Path(tempfile.mkdtemp(prefix="ruimte-test-", dir="/tmp"))
    base.chmod(0o755)
    settings = LocalDatabaseSettings(
        _env_file=None, data_dir=base / "pgdata", port=_free_port(), database="ruimte_admin"
    )
    cluster = LocalCluster(settings, fast=True)
    url = cluster.up()
    try:
        yield url
    finally:
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)


def create_database(server_url: str, name: str) -> str:
    """Create an empty database with PostGIS on the test server; return its URL."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    eng = create_engine(url)
    with eng.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    eng.dispose()
    return url


def drop_database(server_url: str, name: str) -> None:
    """Drop a test database."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(pg_server):
    """A migrated database for this test run."""
    name = f"ruimte_test_{os.getpid()}"
    url = create_database(pg_server, name)
    migrate(url)
    yield url
    drop_database(pg_server, name)


@pytest.fixture(scope="session")
def engine(database_url):
    """Engine on the test database."""
    eng = create_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine):
    """The engine, with every data table emptied after the test."""
    yield engine
    empty_data_tables(engine)


@pytest.fixture
def cli_env(database_url):
    """Environment for running the ``ruimte`` command against the test database."""
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url
    env["COLUMNS"] = "200"
    return env


@pytest.fixture
def ruimte(db, cli_env):
    """Run ``ruimte ARGS...`` in a subprocess; returns the CompletedProcess."""

    def run(*args: str, check: bool | None = None, input: str | None = None):  # noqa: A002
        proc = subprocess.run(
            [sys.executable, "-m", "app.cli", *map(str, args)],
            capture_output=True,
            text=True,
            env=cli_env,
            input=input,
            cwd=ROOT,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"ruimte {' '.join(map(str, args))} failed:\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    return run


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data in ../shared/data (skips when it is not there)."""
    if not (SHARED_DATA / "cbs_gemeenten_provincie_utrecht_2025.gpkg").exists():
        pytest.skip(f"real data not available: {SHARED_DATA} is absent (set RUIMTE_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium from Debian (never a downloaded browser), one for the whole run.

    Session-wide and defined here, so that every test package shares it: a second
    ``sync_playwright()`` while the first is open fails ("Sync API inside the asyncio loop").
    """
    from playwright.sync_api import sync_playwright

    from tests.app.conftest import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run scripts/bootstrap (Debian package chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()
