"""The +40% preset for the whole province at 25 m on demo data, against plain PostGIS SQL.

Usage::

    .venv/bin/python -m bench.scenario_bench [--runs 5] [--cell-size 25] [--offline]
                                             [--database-url URL] [--output FILE]

What happens:

1. Without ``--database-url`` a throwaway PostGIS cluster is started in a temporary
   directory under /tmp (:class:`app.localdb.LocalCluster`, ``fast=True``) and migrated;
   the demo data are loaded (on the real CBS 2025 gemeenten shipped with the package;
   ``--offline`` is accepted and changes nothing, as the demo needs no network).
2. Each run (alternating which goes first):

   - *scenario*: :func:`scenarios.run_scenario` with the preset
     ``pbl-2023-bedrijventerreinen-40`` at ``--cell-size`` m: validate, read every layer,
     compute, allocate, write the rasters and derived layers, store, in this process;
     wall time, and the seconds of each step as the run records them;
   - *totals, ours*: only what the SQL below computes: read the gemeenten and
     bedrijventerreinen (:func:`layers.store.read_features`), split the terreinen over the
     gemeenten (:func:`scenarios.current.terrein_pieces`), current and demand per gemeente;
   - *totals, SQL*: one PostGIS query computing the same per-gemeente current bruto ha
     (``ST_Intersection`` areas) and demand (× 0.40), fetched to Python.

   The per-gemeente results of both totals are checked equal (1e-6 ha).
3. One more scenario run under :mod:`tracemalloc` gives the peak of Python/NumPy
   allocations per step and for the run (tracemalloc slows the run, so its times are not
   used); ``ru_maxrss`` gives the peak resident size of the whole process.
4. Median, minimum and maximum are printed as Markdown and written to
   ``bench/results/scenario-<timestamp>.json`` with the machine and versions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import scipy
import shapely
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

import scenarios
from app.database import migrate
from app.localdb import LocalCluster
from app.runs import run_context
from app.settings import LocalDatabaseSettings, WorkAreaSettings
from layers.demo import DemoOptions, load_demo_data
from layers.importer import ImportPolicy
from layers.milieucategorie import load_table
from layers.store import read_features
from scenarios.current import current_per_gemeente, terrein_pieces
from scenarios.demand import demand_per_gemeente
from scenarios.inputs import LayerData
from scenarios.units import Gemeenten

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
PRESET = "pbl-2023-bedrijventerreinen-40"
GROWTH = 0.40
SQL_TOTALS = """
WITH g AS (SELECT f.gemeente AS statcode, f.geom FROM features f JOIN layers l ON l.id = f.layer_id
           WHERE l.name = 'gemeenten' AND f.version_to IS NULL),
     t AS (SELECT f.geom FROM features f JOIN layers l ON l.id = f.layer_id
           WHERE l.name = 'bedrijventerreinen' AND f.version_to IS NULL)
SELECT g.statcode,
       coalesce(sum(ST_Area(ST_Intersection(t.geom, g.geom))), 0) / 10000.0 AS current_ha,
       :growth * coalesce(sum(ST_Area(ST_Intersection(t.geom, g.geom))), 0) / 10000.0 AS demand_ha
FROM g LEFT JOIN t ON ST_Intersects(t.geom, g.geom)
GROUP BY g.statcode ORDER BY g.statcode
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """A fresh PostGIS cluster in /tmp (fsync off) for the duration; yields its URL."""
    base = Path(tempfile.mkdtemp(prefix="ruimte-bench-", dir="/tmp"))
    base.chmod(0o755)
    settings = LocalDatabaseSettings(
        _env_file=None, data_dir=base / "pgdata", port=_free_port(), database="ruimte_bench"
    )
    cluster = LocalCluster(settings, fast=True)
    try:
        yield cluster.up()
    finally:
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def given(url: str) -> Iterator[str]:
    """An existing database (nothing to start or remove)."""
    yield url


def load_demo(engine: Engine) -> str:
    """Load the demo data; return which gemeenten were used."""
    province = WorkAreaSettings(_env_file=None).resolve()
    policy = ImportPolicy(work_area=province.work_area)
    load_demo_data(engine, DemoOptions(seed=2025), policy)
    return "real CBS 2025 gemeenten (shipped with the package)"


def preset_spec(cell_size: float) -> dict:
    """The preset at another cell size (the same spec otherwise)."""
    spec = scenarios.load_preset(PRESET).as_dict()
    if cell_size != spec["allocation"]["cell_size_m"]:
        spec["name"] = f"{PRESET}-{int(cell_size)}m"
        spec["allocation"]["cell_size_m"] = cell_size
    return spec


SPEC = scenarios.load_preset(PRESET)
TABLE = load_table()


def totals_ours(engine: Engine) -> tuple[float, dict[str, tuple[float, float]]]:
    """Read the two layers, split, current and demand per gemeente; (seconds, figures)."""
    spec = SPEC
    start = time.perf_counter()
    with engine.connect() as conn:
        gem = read_features(conn, "gemeenten")
        ter = read_features(conn, "bedrijventerreinen")
    gemeenten = Gemeenten.from_layer(
        LayerData("gemeenten", "gemeenten", 1, gem.geometries, gem.properties)
    )
    terreinen = LayerData(
        "bedrijventerreinen", "bedrijventerreinen", 1, ter.geometries, ter.properties
    )
    pieces = terrein_pieces(terreinen, gemeenten, TABLE, spec.hmc_threshold)
    current = current_per_gemeente(pieces, len(gemeenten))
    demand = demand_per_gemeente(pieces, spec.demand, gemeenten)
    seconds = time.perf_counter() - start
    figures = {
        str(code): (float(current.at[i, "current_bruto_ha"]), float(demand.at[i, "demand_ha"]))
        for i, code in enumerate(gemeenten.statcodes)
    }
    return seconds, figures


def totals_sql(engine: Engine) -> tuple[float, dict[str, tuple[float, float]]]:
    """The same figures in one PostGIS query; (seconds, figures)."""
    start = time.perf_counter()
    with engine.connect() as conn:
        rows = conn.execute(text(SQL_TOTALS), {"growth": GROWTH}).all()
    seconds = time.perf_counter() - start
    return seconds, {r.statcode: (float(r.current_ha), float(r.demand_ha)) for r in rows}


def check_equal(ours: dict, sql: dict) -> None:
    """Per-gemeente current and demand agree to 1e-6 ha."""
    if set(ours) != set(sql):
        raise AssertionError(f"gemeenten differ: {sorted(set(ours) ^ set(sql))}")
    for code, (cur, dem) in ours.items():
        if abs(cur - sql[code][0]) > 1e-6 or abs(dem - sql[code][1]) > 1e-6:
            raise AssertionError(
                f"{code}: ours {cur:.6f}/{dem:.6f} ha, SQL {sql[code][0]:.6f}/{sql[code][1]:.6f}"
            )


def scenario_run(engine: Engine, spec: dict) -> dict:
    """One scenario run: wall seconds and the recorded seconds per step."""
    start = time.perf_counter()
    run = scenarios.run_scenario(engine, spec, run_context())
    wall = time.perf_counter() - start
    return {
        "wall": wall,
        "steps": dict(run.timing),
        "run_id": run.id,
        "totals": run.result.as_json()["totals"],
    }


def memory_run(engine: Engine, spec: dict) -> dict:
    """A scenario run under tracemalloc: peak traced MB per step and overall."""
    peaks: dict[str, float] = {}
    tracemalloc.start()

    def progress(step: str, _done: int, _total: int) -> None:
        peaks[step] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.reset_peak()

    try:
        scenarios.run_scenario(engine, spec, run_context(), progress=progress)
    finally:
        tracemalloc.stop()
    return {"peak_traced_mb": max(peaks.values()), "per_step_peak_traced_mb": peaks}


def summary(values: list[float]) -> dict[str, float]:
    """Median, min and max."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def machine_info(engine: Engine) -> dict[str, object]:
    """CPU, cores, RAM and the versions that matter."""
    cpu, mem_kb = platform.processor() or "unknown", 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    with engine.connect() as conn:
        pg = conn.execute(text("SHOW server_version")).scalar_one()
        postgis = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
        geos = conn.execute(text("SELECT postgis_geos_version()")).scalar_one()
    import rasterio

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": pg,
        "postgis": postgis,
        "postgis_geos": geos,
        "shapely_geos": shapely.geos_version_string,
        "rasterio_gdal": rasterio.__gdal_version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }


def markdown(report: dict) -> str:
    """The report as a Markdown table of medians (min–max)."""
    lines = [
        f"{report['runs']} runs, {report['cell_size_m']:g} m cells, {report['gemeenten']}; "
        f"grid {report['grid']}",
        "",
        "| step | median s | min–max s |",
        "|---|---:|---:|",
    ]
    for name, stats in report["times"].items():
        lines.append(f"| {name} | {stats['median']:.3f} | {stats['min']:.3f}–{stats['max']:.3f} |")
    mem = report["memory"]
    lines += [
        "",
        f"Peak RSS of the process: {mem['peak_rss_mb']:.0f} MB; peak traced (tracemalloc) "
        f"in a run: {mem['peak_traced_mb']:.0f} MB; per step: "
        + ", ".join(f"{k} {v:.0f}" for k, v in mem["per_step_peak_traced_mb"].items()),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print Markdown and write the JSON report."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.scenario_bench",
        description="The +40%% preset for the whole province on demo data: wall time, steps, "
        "peak memory, and the per-gemeente totals against plain PostGIS SQL.",
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs (default 5)")
    parser.add_argument("--cell-size", type=float, default=25.0, help="cell size in m (default 25)")
    parser.add_argument(
        "--offline",
        action="store_true",
        help="no effect (the demo needs no network); kept for old scripts",
    )
    parser.add_argument(
        "--database-url", help="use this (empty, PostGIS) database instead of a throwaway cluster"
    )
    parser.add_argument(
        "--output", type=Path, help="JSON report (default bench/results/scenario-<time>.json)"
    )
    args = parser.parse_args(argv)

    with given(args.database_url) if args.database_url else throwaway_cluster() as url:
        parsed = make_url(url)
        if parsed.drivername in {"postgres", "postgresql"}:
            url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        migrate(url)
        engine = create_engine(url)
        try:
            report = bench(engine, args)
        finally:
            engine.dispose()
    print(markdown(report))
    out = args.output or RESULTS_DIR / f"scenario-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {out}")
    return 0


def bench(engine: Engine, args: argparse.Namespace) -> dict:
    """Load the demo, warm up, time the runs; the report as a dict."""
    started = time.perf_counter()
    which = load_demo(engine)
    load_s = time.perf_counter() - started
    spec = preset_spec(args.cell_size)
    warm = scenario_run(engine, spec)  # first run: imports, caches, the spec's first version
    totals_ours(engine), totals_sql(engine)
    times: dict[str, list[float]] = {}
    check = None
    for i in range(args.runs):
        order = ("ours", "sql") if i % 2 == 0 else ("sql", "ours")
        for who in order:
            seconds, figures = totals_ours(engine) if who == "ours" else totals_sql(engine)
            times.setdefault(
                "totals per gemeente, ours (read 2 layers + split + current + demand)"
                if who == "ours"
                else "totals per gemeente, PostGIS SQL",
                [],
            ).append(seconds)
            if who == "ours":
                ours = figures
            else:
                sql = figures
        check_equal(ours, sql)
        check = "per-gemeente current and demand equal to 1e-6 ha"
        run = scenario_run(engine, spec)
        times.setdefault("scenario run, wall (whole run incl. allocation and storing)", []).append(
            run["wall"]
        )
        for step, seconds in run["steps"].items():
            if step != "total":
                times.setdefault(f"  step {step}", []).append(seconds)
        times.setdefault("  totals steps in the run (current + demand)", []).append(
            run["steps"]["current"] + run["steps"]["demand"]
        )
    memory = memory_run(engine, spec)
    memory["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    totals = warm["totals"]
    with engine.connect() as conn:
        result = scenarios.get_run(conn, warm["run_id"]).result.as_json()
    g = result["allocation"]["grid"]
    order = ["scenario run, wall (whole run incl. allocation and storing)"]
    order += [f"  step {s}" for s in scenarios.RUN_STEPS if f"  step {s}" in times]
    order += [
        "  totals steps in the run (current + demand)",
        "totals per gemeente, ours (read 2 layers + split + current + demand)",
        "totals per gemeente, PostGIS SQL",
    ]
    return {
        "benchmark": "scenario_bench",
        "preset": PRESET,
        "cell_size_m": args.cell_size,
        "runs": args.runs,
        "gemeenten": which,
        "demo_load_s": load_s,
        "grid": f"{g['cols']} × {g['rows']} cells ({g['cols'] * g['rows']:,})",
        "check": check,
        "province_totals": {
            k: totals[k]
            for k in (
                "current_ha",
                "demand_ha",
                "supply_ha",
                "uncovered_ha",
                "allocated_ha",
                "unmet_ha",
            )
        },
        "times": {name: summary(times[name]) for name in order},
        "memory": memory,
        "machine": machine_info(engine),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


if __name__ == "__main__":
    raise SystemExit(main())
