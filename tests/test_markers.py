"""The ``db`` marker is set on every test that needs PostGIS, and on no other, so that
``scripts/test -m "not db"`` runs without a database."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import DB_FIXTURES, ROOT


def _collected(*args: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [line for line in proc.stdout.splitlines() if "::" in line]


def test_db_marker_follows_the_database_fixtures(request):
    files = [
        "tests/test_layering.py",
        "tests/app/test_visibility.py",
        "tests/app/test_robustness.py",
    ]
    with_db = _collected("-m", "db", *files)
    without = _collected("-m", "not db", *files)
    assert with_db and without
    assert all(
        t.startswith(("tests/app/test_visibility.py", "tests/app/test_robustness.py"))
        for t in with_db
    )
    assert without == ["tests/test_layering.py::test_app_never_touches_the_feature_table"]


def test_this_module_needs_no_database(request):
    assert not DB_FIXTURES.intersection(request.fixturenames)
    assert request.node.get_closest_marker("db") is None
