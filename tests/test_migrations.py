"""Alembic: one linear chain; upgrade → downgrade → upgrade works; no drift from the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from alembic import command
from app.database import (
    alembic_config,
    current_revision,
    head_revision,
    include_object,
    migrate,
    target_metadata,
)
from layers.models import partition_name
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


def test_partitioning_migration_keeps_every_feature_row(empty_db):
    """0003 → 0004 moves the rows into one partition per layer; 0004 → 0003 moves them back."""
    migrate(empty_db, "0003")
    eng = create_engine(empty_db)
    rows_sql = text(
        "SELECT layer_id, fid, version_from, version_to, gemeente, draft, ST_AsEWKT(geom), properties, created_by "
        "FROM features ORDER BY layer_id, fid, version_from"
    )
    try:
        with eng.begin() as conn:
            for name in ("a", "b", "leeg"):
                conn.execute(
                    text(
                        "INSERT INTO layers (name, title, kind, geometry_type) "
                        "VALUES (:n, :t, 'constraints', 'Polygon')"
                    ),
                    {"n": name, "t": name},
                )
            conn.execute(
                text("""
                INSERT INTO features (layer_id, version_from, version_to, gemeente, draft, geom, properties, created_by)
                SELECT l.id, v, CASE WHEN v = 1 AND l.name = 'a' THEN 2 END, 'GM0344', v = 2,
                       ST_MakeEnvelope(136000 + v, 456000, 136100 + v, 456100, 28992),
                       jsonb_build_object('naam', l.name || v), 'tester'
                FROM layers l, generate_series(1, 2) v WHERE l.name <> 'leeg'
            """)
            )
            before = conn.execute(rows_sql).all()
        migrate(empty_db)
        with eng.connect() as conn:
            assert conn.execute(rows_sql).all() == before
            parts = (
                conn.execute(
                    text(
                        "SELECT inhrelid::regclass::text FROM pg_inherits "
                        "WHERE inhparent = 'features'::regclass ORDER BY 1"
                    )
                )
                .scalars()
                .all()
            )
            ids = conn.execute(text("SELECT id FROM layers ORDER BY id")).scalars().all()
            assert parts == sorted(partition_name(i) for i in ids)
        command.downgrade(alembic_config(empty_db), "0003")
        with eng.connect() as conn:
            assert conn.execute(rows_sql).all() == before
    finally:
        eng.dispose()
