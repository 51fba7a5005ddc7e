"""Start-up of the ``ruimte`` command (issue 14): ``ruimte --help`` and ``ruimte layers list``.

Usage::

    .venv/bin/python -m bench.cli_bench [--runs 15] [--database-url URL]

Each run starts every command once as a user does (a new process through the venv's ``ruimte``
script), the order turning from run to run, with ``ogr2ogr --version`` beside them as the
start-up of a tool people compare with. ``layers list`` reads a database holding the demo
layers (a throwaway cluster without ``--database-url``). Wall-clock seconds; median, min and
max; the load average at the start of each run. Target: under 0.5 s for both.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine

from app.database import migrate
from bench.io_bench import RESULTS_DIR, ROOT, _given, sqlalchemy_url, throwaway_cluster
from layers.demo import DemoOptions, load_demo_data
from layers.importer import ImportPolicy

TARGET_S = 0.5


def _ruimte() -> list[str]:
    script = Path(sys.executable).with_name("ruimte")
    return [str(script)] if script.exists() else [sys.executable, "-m", "app.cli"]


def _timed(command: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, env=env, cwd=ROOT)
    took = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {proc.stderr.decode()[-500:]}")
    return took


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print Markdown, write bench/results/cli-<timestamp>.json."""
    ap = argparse.ArgumentParser(
        prog="python -m bench.cli_bench", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("--runs", type=int, default=15, help="runs of each command (default 15)")
    ap.add_argument("--database-url", help="a PostGIS database (default: a throwaway cluster)")
    args = ap.parse_args(argv)
    database = throwaway_cluster() if args.database_url is None else _given(args.database_url)
    with database as url:
        url = sqlalchemy_url(url)
        migrate(url)
        engine = create_engine(url)
        load_demo_data(engine, DemoOptions(seed=2025, online=False), ImportPolicy())
        engine.dispose()
        env = {**os.environ, "DATABASE_URL": url}
        commands = {
            "ruimte --help": [*_ruimte(), "--help"],
            "ruimte layers list": [*_ruimte(), "layers", "list"],
            "ogr2ogr --version": ["ogr2ogr", "--version"],
        }
        names = list(commands)
        times: dict[str, list[float]] = {n: [] for n in names}
        loads = []
        for name in names:  # one unmeasured start each: files in the page cache
            _timed(commands[name], env)
        for i in range(args.runs):
            loads.append(os.getloadavg()[0])
            for name in names[i % 3 :] + names[: i % 3]:
                times[name].append(_timed(commands[name], env))
    stats = {
        n: {"median": statistics.median(v), "min": min(v), "max": max(v)} for n, v in times.items()
    }
    lines = [
        f"{args.runs} runs, interleaved; load average (1 min) at the start of each run: "
        + ", ".join(f"{x:.2f}" for x in loads),
        "",
        "| command | s: median (min–max) | target |",
        "|---|---|---|",
    ]
    for n, s in stats.items():
        target = (
            ("met" if s["median"] < TARGET_S else "**missed**") + f" (< {TARGET_S} s)"
            if n.startswith("ruimte")
            else "for comparison"
        )
        lines.append(f"| `{n}` | {s['median']:.3f} ({s['min']:.3f}–{s['max']:.3f}) | {target} |")
    table = "\n".join(lines)
    print(table)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS_DIR / f"cli-{stamp}.json"
    out.write_text(
        json.dumps({"times": times, "stats": stats, "loads": loads, "markdown": table}, indent=2)
    )
    print(f"\nwritten: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
