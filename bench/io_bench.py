"""Import and export of a large GeoPackage, against ``ogr2ogr`` doing the same, in one run.

Usage::

    .venv/bin/python -m bench.io_bench [--features 100000] [--runs 5] [--database-url URL]

What happens:

1. A deterministic GeoPackage of ``--features`` valid bedrijventerreinen is generated
   (EPSG:28992, non-overlapping star-shaped polygons of 10–30 vertices on a grid over the
   province's bounding box; the attributes of ``tests/helpers.py::terreinen``, varied).
2. Without ``--database-url`` a throwaway PostGIS cluster is started in a temporary
   directory under /tmp (:class:`app.localdb.LocalCluster`, ``fast=True``: fsync off,
   which applies to ogr2ogr just as much) and migrated.
3. Each run times, in wall-clock seconds:

   - *import*: :func:`layers.importer.import_file` (in this process, with the policy the
     CLI uses: every check, then a binary COPY into the layer's new partition, ATTACH
     and ANALYZE, in one transaction)
     against ``ogr2ogr -f PostgreSQL PG:... file.gpkg -nln bench_ogr_<i>`` (defaults; GDAL
     3.6 creates the table and its GiST index, then COPYs in transactions of 100,000
     rows; no checks, no ANALYZE);
   - *export*: :func:`layers.exporter.export_layer` to GPKG against
     ``ogr2ogr -f GPKG out.gpkg PG:... bench_ogr_<i>`` (the table ogr2ogr just made).

   The two tools alternate who goes first from run to run. After each run both copies
   are deleted again (our layer with :func:`layers.store.delete_layer`, the ogr2ogr table
   dropped) and ``features`` is vacuumed, so every run starts from the same state.
   Two diagnostics follow: how long the server alone takes to store the same rows (already
   encoded) the way the import does, and into a partition whose indexes are maintained
   row by row (:func:`server_copy_floor`); and the start-up of the ``ruimte`` CLI.
4. Median, minimum and maximum per step and the ratio ours/ogr2ogr (of the medians) are
   printed as Markdown and written to ``bench/results/io-<timestamp>.json``, with the
   machine (CPU, cores, RAM, load average) and the PostgreSQL, PostGIS and GDAL versions.

Our time is measured inside this Python process, so it leaves out interpreter start-up
and imports, which ``ruimte layers import`` pays on top (the CLI start-up diagnostic);
ogr2ogr's includes its process start (a few tens of milliseconds). The phases of our
import and export come from their ``progress`` callbacks (see :func:`phase_times`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import psycopg
import pyogrio
import shapely
from psycopg import sql
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url

from app.cli.layers import import_policy
from app.database import migrate
from app.localdb import LocalCluster
from app.settings import LocalDatabaseSettings, WorkAreaSettings
from layers import store
from layers.exporter import export_layer
from layers.importer import ImportRequest, import_file
from layers.models import partition_name
from layers.store import delete_layer

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
KIND = "bedrijventerreinen"
#: Gemeenten of the province (CBS statcodes), assigned round the grid.
GEMEENTEN = (
    "GM0307",
    "GM0308",
    "GM0310",
    "GM0312",
    "GM0313",
    "GM0317",
    "GM0321",
    "GM0327",
    "GM0331",
    "GM0335",
    "GM0339",
    "GM0340",
    "GM0342",
    "GM0344",
    "GM0345",
    "GM0351",
    "GM0352",
    "GM0353",
    "GM0355",
    "GM0356",
    "GM0589",
    "GM0632",
    "GM0736",
    "GM1581",
    "GM1904",
    "GM1961",
)
MILIEUCATEGORIEEN = ("2", "3.1", "3.2", "4.1", "4.2", "5.1")
PLANSTATUS = (
    "bestaand",
    "in_aanleg",
    "harde_plancapaciteit",
    "zachte_plancapaciteit",
    "transformatie",
)


# -- test data -------------------------------------------------------------------------


def generate_terreinen(n: int, seed: int = 20261128) -> gpd.GeoDataFrame:
    """``n`` valid, non-overlapping bedrijventerreinen in EPSG:28992, the same for the same seed.

    The province's bounding box is cut into a grid of at least ``n`` cells; the first
    ``n`` cells each get a star-shaped polygon (10–30 vertices, radii 25–45 % of the
    cell) around their centre. Star-shaped with increasing angles means simple, hence
    valid; inside its own cell means no overlaps. Coordinates are rounded to millimetres.
    """
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = WorkAreaSettings(_env_file=None).resolve().bbox
    width, height = maxx - minx, maxy - miny
    cols = int(np.ceil(np.sqrt(n * width / height)))
    rows = int(np.ceil(n / cols))
    cw, ch = width / cols, height / rows
    idx = np.arange(n)
    cx = minx + (idx % cols + 0.5) * cw
    cy = miny + (idx // cols + 0.5) * ch
    nverts = rng.integers(10, 31, size=n)
    offsets = np.concatenate([[0], np.cumsum(nverts)])
    total = int(offsets[-1])
    owner = np.repeat(idx, nverts)
    step = np.arange(total) - offsets[:-1][owner]
    jitter = rng.uniform(0.0, 0.6, size=total)
    angle = (step + jitter) / nverts[owner] * 2 * np.pi + rng.uniform(0, 2 * np.pi, size=n)[owner]
    radius = rng.uniform(0.25, 0.45, size=total) * min(cw, ch)
    xy = np.column_stack(
        [cx[owner] + radius * np.cos(angle), cy[owner] + radius * np.sin(angle)]
    ).round(3)
    # Close each ring: repeat its first vertex after its last.
    ring_len = nverts + 1
    ring_offsets = np.concatenate([[0], np.cumsum(ring_len)])
    coords = np.empty((int(ring_offsets[-1]), 2))
    positions = np.arange(total) + owner
    coords[positions] = xy
    coords[ring_offsets[1:] - 1] = xy[offsets[:-1]]
    polygons = shapely.from_ragged_array(
        shapely.GeometryType.POLYGON, coords, (ring_offsets, np.arange(n + 1))
    )
    if not shapely.is_valid(polygons).all():
        raise RuntimeError("generated an invalid polygon; change the generator")

    bruto = rng.uniform(1.0, 150.0, size=n).round(2)
    netto = (bruto * rng.uniform(0.6, 0.95, size=n)).round(2)
    uitgegeven = (netto * rng.uniform(0.0, 1.0, size=n)).round(2)
    uitgeefbaar = np.maximum(netto - uitgegeven, 0.0).round(2)

    def pick(values: tuple[str, ...], which: np.ndarray) -> np.ndarray:
        return np.array(values, dtype=object)[which]

    frame = gpd.GeoDataFrame(
        {
            "naam": [f"Terrein {i + 1}" for i in range(n)],
            "gemeente": pick(GEMEENTEN, idx % len(GEMEENTEN)),
            "bruto_ha": bruto,
            "netto_ha": netto,
            "uitgegeven_ha": uitgegeven,
            "uitgeefbaar_ha": uitgeefbaar,
            "max_milieucategorie": pick(
                MILIEUCATEGORIEEN, rng.integers(0, len(MILIEUCATEGORIEEN), n)
            ),
            "type_werklocatie": pick(("A", "B", "C"), rng.choice(3, n, p=[0.05, 0.85, 0.10])),
            "planstatus": pick(PLANSTATUS, rng.integers(0, len(PLANSTATUS), n)),
            "ontsluiting_water": rng.random(n) < 0.2,
            "ontsluiting_spoor": rng.random(n) < 0.1,
            "ontsluiting_weg": rng.random(n) < 0.9,
        },
        geometry=polygons,
        crs=28992,
    )
    return frame


def write_gpkg(n: int, path: Path) -> Path:
    """Write the generated terreinen to a GeoPackage (layer ``terreinen``).

    GeoPackage 1.2, as our exports: the GDAL 3.6 of Debian's ogr2ogr warns about 1.4.
    """
    pyogrio.write_dataframe(
        generate_terreinen(n),
        path,
        layer="terreinen",
        driver="GPKG",
        dataset_options={"VERSION": "1.2"},
    )
    return path


# -- database --------------------------------------------------------------------------


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


def sqlalchemy_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` to the psycopg 3 driver, as the app does."""
    parsed = make_url(url)
    if parsed.drivername in {"postgres", "postgresql"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def ogr_connection(url: str) -> tuple[str, dict[str, str]]:
    """GDAL ``PG:`` connection string and environment (password in PGPASSWORD, not argv)."""
    u: URL = make_url(url)
    parts = [f"dbname={u.database}"]
    if u.host:
        parts.append(f"host={u.host}")
    if u.port:
        parts.append(f"port={u.port}")
    if u.username:
        parts.append(f"user={u.username}")
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    return "PG:" + " ".join(parts), env


# -- timing ----------------------------------------------------------------------------


@dataclass
class StageClock:
    """A ``progress`` callback that notes when each stage first and last reports."""

    start: float = field(default_factory=time.perf_counter)
    first: dict[str, float] = field(default_factory=dict)
    last: dict[str, float] = field(default_factory=dict)

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        self.first.setdefault(stage, now)
        self.last[stage] = now


def phase_times(
    clock: StageClock, end: float, phases: list[tuple[str, str, str]]
) -> dict[str, float]:
    """Seconds per phase; each phase runs from its stage mark to the next phase's.

    ``phases`` lists (phase, stage, "first" or "last"): the phase starts at the stage's
    first or last report. The first phase starts when the clock does (the steps before
    any report, such as looking up the kind, are negligible) and the last ends at ``end``.
    """

    def mark(stage: str, which: str) -> float:
        table = clock.first if which == "first" else clock.last
        if stage not in table:
            raise KeyError(f"stage {stage!r} never reported; did the progress hooks change?")
        return table[stage]

    starts = [clock.start] + [mark(stage, which) for _, stage, which in phases[1:]]
    ends = [*starts[1:], end]
    return {name: t1 - t0 for (name, _, _), t0, t1 in zip(phases, starts, ends, strict=True)}


#: Our import: read the file; check everything (geometry and attributes side by side);
#: write the catalogue rows (layer, version) and create the layer's partition; encode and
#: COPY the features (overlapping: a writer thread sends one chunk while the next is
#: encoded); then attach the partition (which builds its indexes), ANALYZE, read the
#: catalogue back and commit.
IMPORT_PHASES = [
    ("read", "read", "first"),
    ("check", "check", "first"),
    ("catalogue", "check", "last"),
    ("encode + COPY", "store", "first"),
    ("attach + analyze + commit", "store", "last"),
]
#: Our export: query and decode the rows (geometry WKB, properties JSON); build the
#: typed table; write the GeoPackage with GDAL (pyogrio).
EXPORT_PHASES = [
    ("query + decode", "read", "first"),
    ("typed table", "table", "first"),
    ("write GPKG", "write", "first"),
]


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Wall seconds of ``fn()`` and its result."""
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def run_ogr2ogr(args: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one ogr2ogr run (fails loudly on a non-zero exit)."""
    t0 = time.perf_counter()
    proc = subprocess.run(["ogr2ogr", *args], capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"ogr2ogr {' '.join(args[:3])}… failed:\n{proc.stderr}")
    return elapsed


COPY_COLUMNS = ", ".join(store.COPY_COLUMNS)
"""The columns the import COPYs (:func:`layers.store.copy_features`)."""


def server_copy_floor(url: str, layer: str) -> dict[str, float]:
    """How long the server alone takes to store our layer's rows (a diagnostic).

    The rows of ``layer`` are fetched in binary COPY format, relabelled with the id of a
    scratch layer, and COPYed back with no Python encoding in the way, as the import
    stores them: into a partition that is not attached yet (``detached``), then the
    ``ATTACH`` that builds its indexes (``attach``). For comparison, the same rows into a
    partition attached beforehand, whose indexes are maintained row by row (``attached``).
    Every step runs in a transaction that is rolled back.
    """
    u = make_url(url)
    with psycopg.connect(
        host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database
    ) as conn:
        layer_id = conn.execute("SELECT id FROM layers WHERE name = %s", [layer]).fetchone()[0]
        conn.commit()
        out = {}
        for attached in (False, True):
            with conn.transaction(force_rollback=True):
                scratch = conn.execute(
                    "INSERT INTO layers (name, title, kind, geometry_type) "
                    "VALUES ('bench-copy-floor', '', %s, 'Polygon') RETURNING id",
                    [KIND],
                ).fetchone()[0]
                columns = COPY_COLUMNS.replace("layer_id", f"{int(scratch)}::integer")
                data = bytearray()
                query = sql.SQL(
                    "COPY (SELECT {} FROM features WHERE layer_id = {}) TO STDOUT (FORMAT binary)"
                ).format(sql.SQL(columns), sql.Literal(layer_id))
                with conn.cursor() as cur, cur.copy(query) as copy:
                    for block in copy:
                        data += block
                part = sql.Identifier(partition_name(scratch))
                if attached:
                    conn.execute(
                        sql.SQL("CREATE TABLE {} PARTITION OF features FOR VALUES IN ({})").format(
                            part, sql.Literal(scratch)
                        )
                    )
                else:
                    conn.execute(
                        sql.SQL("CREATE TABLE {} (LIKE features INCLUDING DEFAULTS)").format(part)
                    )
                t0 = time.perf_counter()
                with (
                    conn.cursor() as cur,
                    cur.copy(
                        sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(
                            part, sql.SQL(COPY_COLUMNS)
                        )
                    ) as copy,
                ):
                    view = memoryview(data)
                    for k in range(0, len(view), 1 << 20):
                        copy.write(view[k : k + (1 << 20)])
                t1 = time.perf_counter()
                if attached:
                    out["attached"] = t1 - t0
                else:
                    out["detached"] = t1 - t0
                    conn.execute(
                        sql.SQL(
                            "ALTER TABLE features ATTACH PARTITION {} FOR VALUES IN ({})"
                        ).format(part, sql.Literal(scratch))
                    )
                    out["attach"] = time.perf_counter() - t1
    return out


def cli_startup() -> float | None:
    """Wall seconds of ``python -m app.cli layers --help``: the CLI's start-up alone.

    None (with a warning) when the CLI fails to start: a diagnostic, not a reason to stop.
    """
    t0 = time.perf_counter()
    args = [sys.executable, "-m", "app.cli", "layers", "--help"]
    proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        print(f"warning: the CLI did not start ({last}); start-up not measured", file=sys.stderr)
        return None
    return time.perf_counter() - t0


def one_run(
    i: int, engine: Engine, url: str, gpkg: Path, workdir: Path, tag: str
) -> dict[str, object]:
    """Import and export once with each tool; returns the timings of this run."""
    pg, env = ogr_connection(url)
    ours_name = f"bench-{tag}-{i}"
    ogr_table = f"bench_ogr_{tag}_{i}"
    ours_out = workdir / f"ours-{i}.gpkg"
    ogr_out = workdir / f"ogr-{i}.gpkg"
    policy = import_policy()
    result: dict[str, object] = {"run": i, "ours_first": i % 2 == 0, "load": os.getloadavg()[0]}

    def ours_import() -> None:
        clock = StageClock()
        request = ImportRequest(path=gpkg, kind=KIND, name=ours_name, synthetic=True)
        report = import_file(engine, request, policy, progress=clock)
        end = time.perf_counter()
        result["ours_import"] = end - clock.start
        result["ours_import_phases"] = phase_times(clock, end, IMPORT_PHASES)
        result["ours_import_count"] = report.layer.feature_count

    def ogr_import() -> None:
        args = ["-f", "PostgreSQL", pg, str(gpkg), "-nln", ogr_table]
        result["ogr_import"] = run_ogr2ogr(args, env)

    def ours_export() -> None:
        clock = StageClock()
        with engine.connect() as conn:
            export = export_layer(conn, ours_name, "gpkg", ours_out, progress=clock)
        end = time.perf_counter()
        result["ours_export"] = end - clock.start
        result["ours_export_phases"] = phase_times(clock, end, EXPORT_PHASES)
        result["ours_export_count"] = export.feature_count

    def ogr_export() -> None:
        result["ogr_export"] = run_ogr2ogr(["-f", "GPKG", str(ogr_out), pg, ogr_table], env)

    for pair in ((ours_import, ogr_import), (ours_export, ogr_export)):
        for step in pair if i % 2 == 0 else reversed(pair):
            step()

    with engine.connect() as conn:
        count = text(f'SELECT count(*) FROM "{ogr_table}"')  # noqa: S608 - our own name
        result["ogr_import_count"] = conn.execute(count).scalar_one()
    result["ogr_export_count"] = pyogrio.read_info(ogr_out, layer=ogr_table)["features"]
    result["ours_export_file_count"] = pyogrio.read_info(ours_out, layer=ours_name)["features"]
    result["ours_export_bytes"] = ours_out.stat().st_size
    result["ogr_export_bytes"] = ogr_out.stat().st_size
    result["server_copy"] = server_copy_floor(url, ours_name)
    result["cli_startup"] = cli_startup()

    with engine.begin() as conn:
        delete_layer(conn, ours_name)
        conn.execute(text(f'DROP TABLE "{ogr_table}"'))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE features"))
    ours_out.unlink()
    ogr_out.unlink()
    return result


def _check_counts(run: dict, n: int) -> None:
    counts = {k: v for k, v in run.items() if k.endswith("_count")}
    if any(v != n for v in counts.values()):
        raise RuntimeError(f"run {run['run']}: expected {n} features everywhere, got {counts}")


# -- machine and report ----------------------------------------------------------------


def machine_info(engine: Engine) -> dict[str, object]:
    """CPU, cores, RAM and the versions that matter."""
    cpu = platform.processor() or "unknown"
    mem_kb = 0
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
        fsync = conn.execute(text("SHOW fsync")).scalar_one()
    ogr = subprocess.run(["ogr2ogr", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": pg,
        "postgis": postgis,
        "postgis_geos": geos,
        "fsync": fsync,
        "ogr2ogr": ogr,
        "pyogrio_gdal": pyogrio.__gdal_version_string__,
        "shapely_geos": shapely.geos_version_string,
    }


def git_state() -> dict[str, object] | None:
    """The commit measured and whether the working tree differs from it (None: no git)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return {"commit": head, "modified_files": status.splitlines()}


def summary(values: list[float]) -> dict[str, float]:
    """Median, min and max."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def summarise(runs: list[dict]) -> dict[str, object]:
    """Per-step statistics, ratios and median phase times."""
    out: dict[str, object] = {}
    for step in ("import", "export"):
        ours = summary([r[f"ours_{step}"] for r in runs])
        ogr = summary([r[f"ogr_{step}"] for r in runs])
        phases = {
            name: statistics.median([r[f"ours_{step}_phases"][name] for r in runs])
            for name in runs[0][f"ours_{step}_phases"]
        }
        out[step] = {
            "ours": ours,
            "ogr2ogr": ogr,
            "ratio": ours["median"] / ogr["median"],
            # Each run times both tools back to back, so its own ratio shrugs off load that
            # comes and goes between runs better than the ratio of the medians does.
            "run_ratios": summary([r[f"ours_{step}"] / r[f"ogr_{step}"] for r in runs]),
            "phases": phases,
        }
    out["server_copy"] = {
        k: summary([r["server_copy"][k] for r in runs]) for k in runs[0]["server_copy"]
    }
    startups = [r["cli_startup"] for r in runs if r["cli_startup"] is not None]
    out["cli_startup"] = summary(startups) if startups else None
    return out


def markdown(stats: dict, machine: dict, n: int, loads: list[float], after: float) -> str:
    """The result tables, as in BENCHMARKS.md."""

    def cell(s: dict[str, float]) -> str:
        return f"{s['median']:.2f} ({s['min']:.2f}–{s['max']:.2f})"

    lines = [
        f"{n:,} polygons, {len(loads)} runs. {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['ram_gb']} GB RAM; PostgreSQL {machine['postgresql']}, "
        f"PostGIS {machine['postgis']} (fsync {machine['fsync']}); {machine['ogr2ogr']}; "
        f"pyogrio with GDAL {machine['pyogrio_gdal']}. "
        "Load average (1 min) at the start of each run: "
        + ", ".join(f"{x:.2f}" for x in loads)
        + f"; {after:.2f} at the end.",
        "",
        "| step | ours, s: median (min–max) | ogr2ogr, s: median (min–max) "
        "| ours / ogr2ogr (of the medians) | per-run ratio: median (min–max) | target ≤ 2× |",
        "|---|---|---|---|---|---|",
    ]
    labels = {"import": "import GPKG → PostGIS", "export": "export PostGIS → GPKG"}
    for step in ("import", "export"):
        s = stats[step]
        met = "met" if s["ratio"] <= 2.0 else "**missed**"
        r = s["run_ratios"]
        lines.append(
            f"| {labels[step]} | {cell(s['ours'])} | {cell(s['ogr2ogr'])} | {s['ratio']:.2f}× "
            f"| {r['median']:.2f}× ({r['min']:.2f}–{r['max']:.2f}) | {met} |"
        )
    lines += ["", "| our phase | median s | share |", "|---|---|---|"]
    for step in ("import", "export"):
        phases = stats[step]["phases"]
        total = sum(phases.values())
        for name, secs in phases.items():
            lines.append(f"| {step}: {name} | {secs:.2f} | {secs / total:.0%} |")
    floor = stats["server_copy"]
    lines += [
        "",
        "| diagnostic | s: median (min–max) |",
        "|---|---|",
        f"| server alone: binary COPY of the same rows, pre-encoded, into a partition not yet attached "
        f"| {cell(floor['detached'])} |",
        f"| … then `ATTACH PARTITION`, which builds its three indexes | {cell(floor['attach'])} |",
        f"| for comparison: the same COPY into a partition attached beforehand (indexes row by row) "
        f"| {cell(floor['attached'])} |",
    ]
    if stats["cli_startup"]:
        lines.append(
            f"| CLI start-up (`python -m app.cli layers --help`) | {cell(stats['cli_startup'])} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.io_bench",
        description=(
            "Time import and export of a generated GeoPackage of bedrijventerreinen with the "
            "layer store and with ogr2ogr, in the same run; print a Markdown table and write "
            "bench/results/io-<timestamp>.json."
        ),
    )
    parser.add_argument(
        "--features", type=int, default=100_000, help="number of polygons (default 100000)"
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each step (default 5)")
    parser.add_argument(
        "--database-url",
        help="a PostGIS database to use instead of a throwaway cluster in /tmp; it is "
        "migrated, and the benchmark adds and removes its own layers and tables there",
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where the JSON goes")
    parser.add_argument("--keep-file", type=Path, help="also copy the generated GeoPackage here")
    args = parser.parse_args(argv)
    if args.features < 1 or args.runs < 1:
        parser.error("--features and --runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark."""
    args = parse_args(argv)
    if shutil.which("ogr2ogr") is None:
        print("ogr2ogr not found: install GDAL's tools (Debian: gdal-bin)", file=sys.stderr)
        return 2
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    workdir = Path(tempfile.mkdtemp(prefix="ruimte-bench-io-", dir="/tmp"))
    try:
        gpkg = workdir / "terreinen.gpkg"
        t_gen, _ = timed(lambda: write_gpkg(args.features, gpkg))
        size_mb = gpkg.stat().st_size / 1e6
        print(
            f"generated {args.features:,} polygons in {t_gen:.1f} s ({size_mb:.1f} MB)",
            file=sys.stderr,
        )
        if args.keep_file:
            shutil.copyfile(gpkg, args.keep_file)
        database = throwaway_cluster() if args.database_url is None else _given(args.database_url)
        with database as url:
            url = sqlalchemy_url(url)
            migrate(url)
            engine = create_engine(url)
            try:
                machine = machine_info(engine)
                load_before = os.getloadavg()[0]
                runs = []
                for i in range(args.runs):
                    r = one_run(i, engine, url, gpkg, workdir, stamp.lower())
                    _check_counts(r, args.features)
                    runs.append(r)
                    print(
                        f"run {i + 1}/{args.runs} (load {r['load']:.2f}): "
                        f"import ours {r['ours_import']:.2f} s, "
                        f"ogr2ogr {r['ogr_import']:.2f} s; export ours {r['ours_export']:.2f} s, "
                        f"ogr2ogr {r['ogr_export']:.2f} s",
                        file=sys.stderr,
                    )
                load_after = os.getloadavg()[0]
            finally:
                engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    stats = summarise(runs)
    table = markdown(stats, machine, args.features, [r["load"] for r in runs], load_after)
    print(table)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out = args.results_dir / f"io-{stamp}.json"
    document = {
        "benchmark": "io_bench",
        "timestamp": stamp,
        "features": args.features,
        "runs_requested": args.runs,
        "database": "--database-url" if args.database_url else "throwaway cluster (fsync off)",
        "git": git_state(),
        "machine": machine,
        "load_average": {"before": load_before, "after": load_after},
        "generate_seconds": t_gen,
        "summary": stats,
        "runs": runs,
        "markdown": table,
    }
    out.write_text(json.dumps(document, indent=2))
    print(f"\nwritten: {out}", file=sys.stderr)
    return 0


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    sys.exit(main())
