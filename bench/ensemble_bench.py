"""An ensemble of the +40% preset: its variants one after another, and on a LocalCluster.

Usage::

    .venv/bin/python -m bench.ensemble_bench [--samples 100] [--cell-size 25]
                                             [--modes sequential cluster-2]
                                             [--database-url URL] [--output FILE]

The preset with ``growth_pct: {min: 10, max: 15}`` (the strategy's industry bandwidth) and
``ensemble: {samples: N, seed: 2016}``. Without ``--database-url`` a throwaway PostGIS is
started and the demo data loaded (as in :mod:`bench.scenario_bench`). Each mode runs in a
fresh child process that reads the layers once, computes the base run in memory and then the
N variants (:func:`scenarios.ensemble.run_ensemble`):

- ``sequential``: one variant after another in the child;
- ``cluster-N``: the variants as tasks on a ``distributed.LocalCluster`` of N worker
  processes of one thread each (started by the child; the inputs scattered once);
- ``…-unshared``: the same, with every variant computing its own suitability surface
  (``run_ensemble(share_surface=False)``); without it, variants that vary only demand and
  supply share one surface per process.

It reports the wall time of the variants, seconds per variant, the child's peak RSS and each
worker's, the load average before and after, and a SHA-256 of the ensemble figures and of the
frequency raster, which must be equal for every mode (the benchmark fails otherwise).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.child import run_json_child

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
MODES = ("sequential", "cluster-1", "cluster-2")
#: A mode ending in ``-unshared`` runs every variant's own suitability surface (as before the
#: shared surface): ``sequential-unshared``, ``cluster-2-unshared``.
UNSHARED = "-unshared"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(url: str, samples: int, cell_size: float, mode: str) -> dict:
    """One ensemble in this process; the report as a dict."""
    from sqlalchemy import create_engine

    from app.runs import work_area
    from bench.scenario_bench import preset_spec
    from layers.milieucategorie import load_table
    from scenarios.compute import DEFAULT_FIGURES, compute
    from scenarios.engine import InMemory
    from scenarios.ensemble import run_ensemble
    from scenarios.runner import read_inputs, resolve_spec

    raw = preset_spec(cell_size)
    raw["demand"]["categories"][0]["growth_pct"] = {"min": 10, "max": 15}
    raw["ensemble"] = {"samples": samples, "seed": 2016}
    engine = create_engine(url)
    with engine.connect() as conn:
        spec = resolve_spec(conn, raw)
        inputs = read_inputs(conn, spec)
    table, province = load_table(), work_area()
    base = compute(spec, inputs, table, province=province, engine=InMemory())
    cluster = client = None
    scheduler = None
    share = not mode.endswith(UNSHARED)
    if mode.startswith("cluster-"):
        from distributed import Client, LocalCluster

        cluster = LocalCluster(
            n_workers=int(mode.removesuffix(UNSHARED).split("-")[1]),
            threads_per_worker=1,
            processes=True,
            memory_limit=0,
            dashboard_address=None,
        )
        client = Client(cluster)
        scheduler = cluster.scheduler_address
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    part, rasters, _ = run_ensemble(
        spec,
        inputs,
        table,
        base,
        province=province,
        defaults=DEFAULT_FIGURES,
        scheduler=scheduler,
        share_surface=share,
    )
    wall = time.perf_counter() - start
    report = {
        "mode": mode,
        "shared_surface": share,
        "samples": samples,
        "cell_size_m": cell_size,
        "cells": base.result.allocation.grid.rows * base.result.allocation.grid.cols,
        "wall_s": round(wall, 1),
        "s_per_variant": round(wall / samples, 2),
        "peak_rss_mb": round(_peak_rss_mb()),
        "worker_peak_rss_mb": [],
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "ensemble_sha256": hashlib.sha256(json.dumps(part, sort_keys=True).encode()).hexdigest(),
        "frequency_sha256": hashlib.sha256(rasters["frequentie"][0]).hexdigest(),
        "p_shortage_total": part["totals"]["p_shortage"],
    }
    if client is not None:
        peaks = client.run(_peak_rss_mb)
        report["worker_peak_rss_mb"] = sorted(round(v) for v in peaks.values())
        client.close()
        cluster.close()
    return report


def run_child(url: str, samples: int, cell_size: float, mode: str) -> dict:
    """:func:`child` in a fresh process (so its peak memory is its own)."""
    args = ["--database-url", url, "--samples", str(samples), "--cell-size", str(cell_size)]
    return run_json_child("bench.ensemble_bench", [*args, "--modes", mode], mode)


def markdown(rows: list[dict]) -> str:
    """The runs as a Markdown table."""
    lines = [
        "| mode | variants | cells | wall s | s per variant | peak RSS MB (client) "
        "| peak RSS MB per worker | load before → after |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        workers = ", ".join(map(str, r["worker_peak_rss_mb"])) or "–"
        lines.append(
            f"| {r['mode']} | {r['samples']} | {r['cells'] / 1e6:.1f} M | {r['wall_s']:.1f} | "
            f"{r['s_per_variant']:.2f} | {r['peak_rss_mb']} | {workers} | "
            f"{r['load_before']:.2f} → {r['load_after']:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print Markdown and write the JSON report."""
    parser = argparse.ArgumentParser(prog="python -m bench.ensemble_bench")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--cell-size", type=float, default=25.0)
    parser.add_argument(
        "--modes",
        nargs="+",
        choices=[*MODES, *(m + UNSHARED for m in MODES)],
        default=["sequential", "cluster-2"],
    )
    parser.add_argument("--database-url", help="an existing database with the demo data")
    parser.add_argument("--output", type=Path, help="JSON report (default: bench/results/)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        report = child(args.database_url, args.samples, args.cell_size, args.modes[0])
        print(json.dumps(report))
        return 0
    from sqlalchemy import create_engine

    from bench.scenario_bench import given, load_demo, machine_info, throwaway_cluster

    with given(args.database_url) if args.database_url else throwaway_cluster() as url:
        engine = create_engine(url)
        if not args.database_url:
            from app.database import migrate

            migrate(url)
            load_demo(engine)
        machine = machine_info(engine)
        rows = []
        for mode in args.modes:
            row = run_child(url, args.samples, args.cell_size, mode)
            print(json.dumps(row), file=sys.stderr, flush=True)
            rows.append(row)
    if len({(r["ensemble_sha256"], r["frequency_sha256"]) for r in rows}) != 1:
        print("the modes gave different ensembles", file=sys.stderr)
        return 1
    print(markdown(rows))
    out = args.output or RESULTS_DIR / f"ensemble-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"benchmark": "ensemble", "machine": machine, "runs": rows}, indent=2)
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
