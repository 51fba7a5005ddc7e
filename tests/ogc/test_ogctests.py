"""The ``ogctests`` conformance suite (PyPI) against the live service, core part: every test
passes against ``/ogc``, and its HTTP client follows no redirects (``/ogc/`` must answer 200).

ogctests pins pytest 8 and httpx 0.27, so ``scripts/bootstrap`` installs it into a venv of its
own (``.venv/ogctests``); it runs there as a subprocess, a real HTTP client of the server.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

OGCTESTS_PYTHON = ROOT / ".venv" / "ogctests" / "bin" / "python"
RUN = """
import sys
from ogctests.main import run_ogctests
sys.exit(run_ogctests("features/core", sys.argv[1], ["-rA", "-p", "no:cacheprovider", "-W", "ignore"]))
"""


def test_ogctests_core_passes_against_ogc(ogc_server, tmp_path: Path):
    if not OGCTESTS_PYTHON.exists():
        pytest.fail("ogctests is not installed: run scripts/bootstrap (it makes .venv/ogctests)")
    proc = subprocess.run(
        [str(OGCTESTS_PYTHON), "-c", RUN, f"{ogc_server.url}/ogc"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    summary = [line for line in out.splitlines() if line.startswith(("PASSED", "FAILED", "ERROR"))]
    assert summary and all(line.startswith("PASSED") for line in summary), "\n".join(summary)
