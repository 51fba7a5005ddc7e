"""The chunked raster engine: in memory, on threads and on a LocalCluster of 1 and 2 workers.

Usage::

    .venv/bin/python -m bench.dask_bench [--cell-sizes 25 4.5] [--chunk-cells 4194304]
                                         [--engines memory threads cluster-1 cluster-2]
                                         [--database-url URL] [--output FILE]

What happens:

1. Without ``--database-url`` a throwaway PostGIS cluster is started under /tmp and the demo
   data (province of Utrecht, real CBS 2025 gemeenten) are loaded, as in
   :mod:`bench.scenario_bench`. For the country, load the national demo data
   (``RUIMTE_WORK_AREA=NL ruimte demo-data --work-area NL``) and pass ``--database-url`` with
   ``RUIMTE_WORK_AREA=NL`` (132 M cells at 25 m); a cell size of 4.5 m over Utrecht gives
   about as many cells without them.
2. For each cell size and engine a fresh child process reads the layers of the +40% preset
   and computes the run (:func:`scenarios.compute.compute`: every step, rasters included,
   nothing stored), so each peak memory is its own:

   - ``memory``: the whole grid in numpy (:class:`scenarios.engine.InMemory`);
   - ``threads``: :class:`scenarios.chunked.Chunked` on Dask's threaded scheduler;
   - ``cluster-N``: the same on a ``distributed.LocalCluster`` of N worker processes of one
     thread each, started by the child.

   It reports the seconds per step, the peak RSS of the process (``ru_maxrss``), that of each
   worker, the CPU seconds the process (the client, and a LocalCluster's scheduler in it) and
   each worker used during the run, and SHA-256 hashes of the result JSON and of the
   GeoTIFFs, which must be equal for every engine of a cell size (the benchmark fails
   otherwise).
3. A Markdown table is printed and the JSON report written to
   ``bench/results/dask-<timestamp>.json``.

The raster steps are ``suitability`` (for the chunked engine: every chunk computed, the
suitability and constraint GeoTIFFs written, the candidates listed), ``allocation`` and
``outputs`` (the allocation GeoTIFF, the polygons, the overviews).
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

from sqlalchemy import create_engine

from bench.child import run_json_child

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
RASTER_STEPS = ("suitability", "allocation", "outputs")
ENGINES = ("memory", "threads", "cluster-1", "cluster-2")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """CPU seconds (user + system) this process has used so far, all its threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(url: str, cell_size: float, engine_name: str, chunk_cells: int) -> dict:
    """One run in this process; the report as a dict."""
    from app.runs import work_area
    from bench.scenario_bench import preset_spec
    from layers.milieucategorie import load_table
    from scenarios.chunked import Chunked
    from scenarios.compute import compute
    from scenarios.engine import InMemory
    from scenarios.runner import read_inputs, resolve_spec

    engine = create_engine(url)
    with engine.connect() as conn:
        spec = resolve_spec(conn, preset_spec(cell_size))
        inputs = read_inputs(conn, spec)
    cluster = client = None
    if engine_name == "memory":
        raster = InMemory()
    elif engine_name == "threads":
        raster = Chunked(chunk_cells=chunk_cells)
    else:
        from distributed import Client, LocalCluster

        workers = int(engine_name.split("-")[1])
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=0,
            dashboard_address=None,
        )
        client = Client(cluster)
        raster = Chunked(chunk_cells=chunk_cells, scheduler=cluster.scheduler_address)
    worker_cpu = client.run(_cpu_s) if client is not None else {}
    cpu = _cpu_s()
    start = time.perf_counter()
    comp = compute(spec, inputs, load_table(), province=work_area(), engine=raster)
    wall = time.perf_counter() - start
    cpu = _cpu_s() - cpu
    report = {
        "cell_size_m": cell_size,
        "engine": engine_name,
        "chunk_cells": chunk_cells if engine_name != "memory" else None,
        "cells": comp.result.allocation.grid.rows * comp.result.allocation.grid.cols,
        "grid": [comp.result.allocation.grid.rows, comp.result.allocation.grid.cols],
        "wall_s": round(wall, 2),
        "steps_s": comp.timing,
        "raster_steps_s": round(sum(comp.timing[s] for s in RASTER_STEPS), 2),
        "peak_rss_mb": round(_peak_rss_mb()),
        "worker_peak_rss_mb": [],
        # the client's (with a LocalCluster: also its scheduler's) and each worker's CPU time
        # during the run: what a second worker can share and what it cannot
        "cpu_s": round(cpu, 1),
        "worker_cpu_s": [],
        "result_sha256": hashlib.sha256(
            json.dumps(comp.result.as_json(), sort_keys=True).encode()
        ).hexdigest(),
        "raster_sha256": {
            k: hashlib.sha256(v[0]).hexdigest() for k, v in sorted(comp.rasters.items())
        },
    }
    if client is not None:
        peaks = client.run(_peak_rss_mb)
        report["worker_peak_rss_mb"] = sorted(round(v) for v in peaks.values())
        after = client.run(_cpu_s)
        report["worker_cpu_s"] = sorted(round(after[w] - worker_cpu[w], 1) for w in after)
        client.close()
        cluster.close()
    return report


def run_child(url: str, cell_size: float, engine_name: str, chunk_cells: int) -> dict:
    """:func:`child` in a fresh process (so its peak memory is its own)."""
    args = ["--database-url", url, "--cell-sizes", str(cell_size), "--engines", engine_name]
    args += ["--chunk-cells", str(chunk_cells)]
    return run_json_child("bench.dask_bench", args, f"{engine_name} at {cell_size} m")


def markdown(rows: list[dict]) -> str:
    """The runs as a Markdown table."""
    lines = [
        "| cells | engine | run s | raster steps s | suitability s | peak RSS MB (client) "
        "| peak RSS MB per worker | CPU s (client) | CPU s per worker "
        "| load (1 min) before → after |",
        "|---:|---|---:|---:|---:|---:|---|---:|---|---|",
    ]
    for r in rows:
        workers = ", ".join(map(str, r["worker_peak_rss_mb"])) or "–"
        worker_cpu = ", ".join(f"{v:.1f}" for v in r.get("worker_cpu_s", [])) or "–"
        cpu = f"{r['cpu_s']:.1f}" if "cpu_s" in r else "–"
        load = " → ".join(f"{v:.2f}" for v in r.get("load_1min", [])) or "–"
        lines.append(
            f"| {r['cells'] / 1e6:.1f} M ({r['cell_size_m']:g} m) | {r['engine']} | "
            f"{r['wall_s']:.1f} | {r['raster_steps_s']:.1f} | {r['steps_s']['suitability']:.1f} "
            f"| {r['peak_rss_mb']} | {workers} | {cpu} | {worker_cpu} | {load} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print Markdown and write the JSON report."""
    parser = argparse.ArgumentParser(prog="python -m bench.dask_bench")
    parser.add_argument("--cell-sizes", type=float, nargs="+", default=[25.0, 4.5])
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--chunk-cells", type=int, default=4_194_304)
    parser.add_argument("--database-url", help="an existing database with the demo data")
    parser.add_argument("--output", type=Path, help="JSON report (default: bench/results/)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(
            json.dumps(
                child(args.database_url, args.cell_sizes[0], args.engines[0], args.chunk_cells)
            )
        )
        return 0
    from bench.scenario_bench import given, load_demo, machine_info, throwaway_cluster

    with given(args.database_url) if args.database_url else throwaway_cluster() as url:
        engine = create_engine(url)
        if not args.database_url:
            from app.database import migrate

            migrate(url)
            load_demo(engine)
        machine = machine_info(engine)
        rows = []
        for cell_size in args.cell_sizes:
            for name in args.engines:
                before = os.getloadavg()[0]
                row = run_child(url, cell_size, name, args.chunk_cells)
                row["load_1min"] = [round(before, 2), round(os.getloadavg()[0], 2)]
                print(json.dumps(row), file=sys.stderr, flush=True)
                rows.append(row)
            hashes = {
                (r["result_sha256"], json.dumps(r["raster_sha256"]))
                for r in rows[-len(args.engines) :]
            }
            if len(hashes) != 1:
                raise SystemExit(f"engines disagree at {cell_size} m: {hashes}")
        engine.dispose()
    report = {
        "benchmark": "dask_bench",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "runs": rows,
    }
    print(markdown(rows))
    out = args.output or RESULTS_DIR / f"dask-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
