"""The ``ruimte`` command starts at once (issue 14): ``import app.cli`` loads no heavy module.

Start-up time itself is measured in ``bench/cli_bench.py``, never here; this counts modules.
"""

from __future__ import annotations

import json
import subprocess
import sys

from sqlalchemy import create_engine

from app.database import alembic_head_revision, current_revision, head_revision
from layers.catalogue import STORAGE_SRID, list_catalogue
from layers.models import STORAGE_SRID as MODEL_SRID
from layers.store import list_layers
from tests.conftest import ROOT

#: Modules that only the commands using them may import (each costs 50–450 ms to load).
HEAVY = (
    "numpy",
    "pandas",
    "geopandas",
    "shapely",
    "scipy",
    "pyproj",
    "pyogrio",
    "pyarrow",
    "rasterio",
    "folium",
    "fastapi",
    "uvicorn",
    "alembic",
    "geoalchemy2",
    "sqlalchemy",
    "psycopg",
    "dask",
    "distributed",
    "openpyxl",
    "scenarios.runner",
    "layers.store",
    "layers.models",
    "layers.kinds",
)
#: What ``import app.cli`` loads today is about 430 modules (typer, click, rich, pydantic and
#: pydantic-settings, the command modules); before issue 14 it was 1,682.
MAX_MODULES = 520


def _modules_after(statement: str) -> list[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return json.loads(proc.stdout)


def test_import_app_cli_loads_no_heavy_module():
    modules = _modules_after("import app.cli")
    loaded = sorted(
        {m for m in modules for heavy in HEAVY if m == heavy or m.startswith(heavy + ".")}
    )
    assert not loaded, f"`import app.cli` loads {loaded}"
    assert len(modules) <= MAX_MODULES, f"`import app.cli` loads {len(modules)} modules"


def test_layers_list_needs_no_orm_numpy_or_alembic():
    """``ruimte layers list`` reads the catalogue with SQLAlchemy Core only."""
    modules = set(_modules_after("import app.cli, app.database, layers.catalogue, app.cli.common"))
    for heavy in ("numpy", "pandas", "shapely", "geoalchemy2", "alembic", "sqlalchemy.orm"):
        assert heavy not in modules, heavy


def test_help_lists_every_command(ruimte):
    proc = ruimte("--help", check=True)
    for command in ("db", "layers", "scenario", "users", "tokens", "serve", "demo", "demo-data"):
        assert command in proc.stdout
    assert "gpkg" in ruimte("layers", "export", "--help", check=True).stdout


def test_light_catalogue_equals_the_store(db, ruimte):
    ruimte("demo-data", check=True)
    with db.connect() as conn:
        light = [info.as_dict() for info in list_catalogue(conn)]
        full = [info.as_dict() for info in list_layers(conn, None)]
    assert light == full
    assert len(light) >= 9
    listed = json.loads(ruimte("layers", "list", "--json", check=True).stdout)
    assert [layer["name"] for layer in listed] == [layer["name"] for layer in full]
    assert STORAGE_SRID == MODEL_SRID


def test_light_revisions_equal_alembic(database_url):
    from alembic.runtime.migration import MigrationContext

    assert head_revision() == alembic_head_revision()
    eng = create_engine(database_url)
    try:
        with eng.connect() as conn:
            expected = MigrationContext.configure(conn).get_current_revision()
        assert current_revision(eng) == expected == head_revision()
    finally:
        eng.dispose()
