"""Run a benchmark's measurement in a fresh Python process, so its peak memory is its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_json_child(module: str, args: list[str], label: str) -> dict:
    """``python -m MODULE --child ARGS`` in a fresh process; its last stdout line as JSON.

    Raises RuntimeError naming ``label`` with the end of the child's stderr when it fails.
    """
    proc = subprocess.run(
        [sys.executable, "-m", module, "--child", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, PYTHONWARNINGS="ignore"),
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{label} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
