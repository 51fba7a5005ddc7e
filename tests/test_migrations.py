"""Alembic: one linear chain; upgrade → downgrade → upgrade works; no drift from the models."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from app.database import alembic_config, current_revision, head_revision, include_object, migrate, target_metadata

from tests.conftest import create_database, drop_database


@pytest.fixture
def empty_db(pg_server):
    url = create_database(pg_server, "ruimte_migrations")
    yield url
    drop_database(pg_server, "ruimte_migrations")


def _tables(url):
    eng = create_engine(url)
    try:
        return set(inspect(eng).get_table_names()) - {"spatial_ref_sys"}
    finally:
        eng.dispose()


def test_single_linear_chain():
    script = ScriptDirectory.from_config(alembic_config("postgresql://"))
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    assert sum(1 for r in revisions if r.down_revision is None) == 1


def test_upgrade_downgrade_upgrade(empty_db):
    migrate(empty_db)
    assert {"layers", "layer_versions", "features"} <= _tables(empty_db)
    command.downgrade(alembic_config(empty_db), "base")
    assert _tables(empty_db) == {"alembic_version"}
    migrate(empty_db)
    eng = create_engine(empty_db)
    try:
        assert current_revision(eng) == head_revision()
    finally:
        eng.dispose()


def test_models_and_migrations_do_not_drift(database_url):
    eng = create_engine(database_url)
    try:
        with eng.connect() as conn:
            ctx = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_object": include_object,
                },
            )
            diff = compare_metadata(ctx, target_metadata())
    finally:
        eng.dispose()
    assert diff == []

