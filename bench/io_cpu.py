"""CPU seconds of our import and export against ogr2ogr's, client and server (a diagnostic).

Usage::

    .venv/bin/python -m bench.io_cpu [--features 100000] [--runs 3] [--shape grid,realistic]
                                     [--database-url URL]

Wall time on two cores is bounded below by the work done: a step that needs C CPU seconds
in all takes at least C / 2 seconds however well it overlaps. This times the same steps as
:mod:`bench.io_bench` (in-process import with every check, ogr2ogr's import; our export and
ogr2ogr's), one after another, and counts for each the CPU seconds of the client (this
process, all its threads; ogr2ogr's process) and of the PostgreSQL server (every child of
the postmaster, and those that ended, from ``/proc``; on the same machine, Linux only).
Background work of the server (autovacuum, checkpoints) lands in whichever step it happens
in; the medians of a few runs smooth that out. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from app.database import migrate
from app.settings import import_policy
from bench.data import SHAPES, write_gpkg
from bench.io_bench import (
    KIND,
    _given,
    ogr_connection,
    run_ogr2ogr,
    sqlalchemy_url,
    throwaway_cluster,
)
from layers.exporter import export_layer
from layers.importer import ImportRequest, import_file
from layers.store import delete_layer

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2 :].split()  # the fields after the command name


def postmaster_pid(url: str) -> int:
    """The server's postmaster: the parent of a backend of ``url``."""
    u = make_url(url)
    with psycopg.connect(
        host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database
    ) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    return int(_stat(backend)[1])


def server_cpu(postmaster: int) -> float:
    """CPU seconds of the server so far: its live children, and the children that ended."""
    total = sum(float(v) for v in _stat(postmaster)[13:15])  # cutime, cstime
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat(int(entry.name))
        except (OSError, ValueError):
            continue
        if int(fields[1]) == postmaster:
            total += float(fields[11]) + float(fields[12])  # utime, stime
    return total / TICK


def client_cpu() -> float:
    """CPU seconds of this process (every thread) and of the child processes that ended."""
    own = time.process_time()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own + kids.ru_utime + kids.ru_stime


def measured(fn: Callable[[], object], postmaster: int) -> dict[str, float]:
    """Wall, client CPU and server CPU seconds of ``fn()``."""
    c0, s0, t0 = client_cpu(), server_cpu(postmaster), time.perf_counter()
    fn()
    wall = time.perf_counter() - t0
    time.sleep(0.2)  # let the backend's last work show in /proc
    return {"wall": wall, "client": client_cpu() - c0, "server": server_cpu(postmaster) - s0}


def one_run(
    engine: Engine, pg: str, env: dict[str, str], pm: int, gpkg: Path, workdir: Path, tag: str
) -> list[tuple[tuple[str, str], dict[str, float]]]:
    """Each step once: ((step, tool), figures)."""
    name, table, out = f"cpu-{tag}", f"cpu_ogr_{tag.replace('-', '_')}", workdir / "out.gpkg"
    request = ImportRequest(path=gpkg, kind=KIND, name=name, synthetic=True)
    found = [
        (
            ("import", "ours in-process"),
            measured(lambda: import_file(engine, request, import_policy()), pm),
        ),
        (
            ("import", "ogr2ogr"),
            measured(
                lambda: run_ogr2ogr(["-f", "PostgreSQL", pg, str(gpkg), "-nln", table], env), pm
            ),
        ),
    ]

    def ours_export() -> None:
        with engine.connect() as conn:
            export_layer(conn, name, "gpkg", out)

    found.append((("export", "ours in-process"), measured(ours_export, pm)))
    out.unlink()
    found.append(
        (
            ("export", "ogr2ogr"),
            measured(lambda: run_ogr2ogr(["-f", "GPKG", str(out), pg, table], env), pm),
        )
    )
    out.unlink()
    with engine.begin() as conn:
        delete_layer(conn, name)
        conn.execute(text(f'DROP TABLE "{table}"'))  # noqa: S608 - our own name
    return found


def main(argv: list[str] | None = None) -> int:
    """Run the diagnostic."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.io_cpu", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--features", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--shape", default=",".join(SHAPES))
    parser.add_argument("--database-url")
    args = parser.parse_args(argv)
    if not Path("/proc/self/stat").exists():
        print("io_cpu needs Linux's /proc", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="ruimte-bench-cpu-", dir="/tmp"))
    lines = [
        "| shape | step | tool | wall s | client CPU s | server CPU s | CPU s in all |",
        "|---|---|---|---|---|---|---|",
    ]
    try:
        database = throwaway_cluster() if args.database_url is None else _given(args.database_url)
        with database as url:
            url = sqlalchemy_url(url)
            migrate(url)
            engine = create_engine(url)
            pm = postmaster_pid(url)
            pg, env = ogr_connection(url)
            for shape in [s.strip() for s in args.shape.split(",") if s.strip()]:
                gpkg = write_gpkg(args.features, workdir / f"t-{shape}.gpkg", shape)
                rows: dict[tuple[str, str], list[dict[str, float]]] = {}
                for i in range(args.runs):
                    for key, value in one_run(engine, pg, env, pm, gpkg, workdir, f"{shape}-{i}"):
                        rows.setdefault(key, []).append(value)
                    print(
                        f"{shape} run {i + 1}/{args.runs} (load {os.getloadavg()[0]:.2f})",
                        file=sys.stderr,
                    )
                for (step, tool), values in rows.items():
                    med = {k: statistics.median(v[k] for v in values) for k in values[0]}
                    lines.append(
                        f"| {shape} | {step} | {tool} | {med['wall']:.2f} | {med['client']:.2f} "
                        f"| {med['server']:.2f} | {med['client'] + med['server']:.2f} |"
                    )
                gpkg.unlink()
            engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
