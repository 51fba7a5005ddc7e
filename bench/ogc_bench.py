"""OGC API – Features items and vector tiles: ours against tipg on the same PostGIS database.

Usage::

    .venv/bin/python -m bench.ogc_bench [--tipg /tmp/tipg-venv] [--workers 1] [--seconds 15]
        [--connections 8] [--size 100000] [--database-url URL]

What happens, in one run:

1. Without ``--database-url`` a throwaway PostGIS cluster is started (``bench.io_bench``),
   migrated and given the demo layers plus a layer of ``--size`` non-overlapping
   polygons (``bench.io_bench.generate_terreinen``, imported with the normal import); the
   layers' geometry in Web Mercator is stored
   (``layers.tile_geometries.prepare_tile_geometries``, what our server does after the first
   tile or CRS84 page of a layer version) before anything is measured.
2. For tipg, a schema ``tipg_bench`` gets one **plain view** per layer that expands the
   JSONB properties into typed columns (``(properties->>'naam')::text AS naam``, numbers
   as double precision, …) over the current rows of ``features``. Views, not materialized
   views, so that both servers read the very same table, indexes and rows (a
   materialized view would give tipg its own, smaller table and GiST index).
3. Both servers run with uvicorn and the same number of workers (``--workers``), one at a
   time, against the same database: ours (``app.main:create_app``) and tipg (installed in
   its own venv, ``--tipg``: ``python -m venv /tmp/tipg-venv && /tmp/tipg-venv/bin/pip
   install tipg 'uvicorn[standard]'``: httptools and uvloop, as ours has), with tipg's tile
   feature cap set to ours (20,000).
4. ``wrk`` (Debian package) drives each scenario for ``--seconds`` after a 3 s warm-up,
   with ``--connections`` connections, cycling through a fixed list of URLs that is the
   same for both servers:

   - ``items``: ``limit=100`` with a bbox (CRS84) around a random spot of the large layer,
     sized to hold about 150 of its features;
   - ``tiles zN`` for N = 10…14: 60 WebMercatorQuad tiles per zoom, those holding random
     features of the large layer.

   Latency p50/p95/p99 and requests per second come from wrk; a sample of responses is
   compared (features per page, features per tile) so that both serve the same content.
   Before each turn the database is let settle (:func:`settle`): a query wrk gave up on goes
   on running in PostgreSQL (tipg's deep pages for minutes), so it is waited for up to 30 s
   and then cancelled, and the count is kept with the turn's figures.

Results are printed as Markdown and written to ``bench/results/ogc-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx2 as httpx
import mapbox_vector_tile
import numpy as np
import shapely
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.database import migrate
from bench.io_bench import _free_port, machine_info, throwaway_cluster, write_gpkg
from layers.demo import DemoOptions, load_demo_data
from layers.importer import ImportPolicy, ImportRequest, import_file
from layers.kinds import load_kinds
from layers.store import list_layers, read_features
from layers.tile_geometries import prepare_tile_geometries
from spatial.crs import RD_NEW, WGS84, reproject

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parent.parent
SQL_TYPES = {
    "number": "double precision",
    "integer": "bigint",
    "boolean": "boolean",
    "date": "date",
}
WRK_LUA = """
local urls = {}
local i = 0
init = function(args)
  for line in io.lines(args[1]) do urls[#urls + 1] = line end
  i = math.random(#urls)
end
request = function()
  i = i % #urls + 1
  return wrk.format("GET", urls[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
    .. '"max_us": %d, "non2xx": %d, "socket_errors": %d, "bytes": %d}\\n', summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, e.status,
    e.connect + e.read + e.write + e.timeout, summary.bytes))
end
"""
TIPG_SCHEMA = "tipg_bench"
TILE_CAP = 20_000


def view_name(layer: str) -> str:
    """tipg collection-friendly view name of a layer (no dashes)."""
    return layer.replace("-", "_")


def create_views(engine) -> None:  # noqa: ANN001
    """One view per layer in ``tipg_bench``: JSONB properties as typed columns, current rows only."""
    kinds = load_kinds()
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {TIPG_SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {TIPG_SCHEMA}"))
        for info in list_layers(conn):
            kind = kinds[info.kind]
            fields = {**{f.name: f.type for f in kind.fields.values()}, **info.extra_fields}
            cols = ", ".join(
                f"(f.properties->>'{name}')::{SQL_TYPES.get(ftype, 'text')} AS \"{name}\""
                for name, ftype in fields.items()
            )
            conn.execute(
                text(
                    f'CREATE VIEW {TIPG_SCHEMA}."{view_name(info.name)}" AS SELECT f.fid AS id, {cols}, f.geom '
                    f"FROM features f WHERE f.layer_id = {info.id} AND f.version_to IS NULL"
                )
            )


def item_windows(engine, layer: str, n: int, per_window: int = 150, seed: int = 11) -> list[str]:  # noqa: ANN001
    """CRS84 bboxes around random features of ``layer``, sized to hold about ``per_window`` of them."""
    with engine.connect() as conn:
        ff = read_features(conn, layer)
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = shapely.total_bounds(ff.geometries)
    side = math.sqrt((maxx - minx) * (maxy - miny) * per_window / len(ff.fids))
    centres = shapely.centroid(ff.geometries[rng.choice(len(ff.fids), n, replace=False)])
    out = []
    for c in centres:
        corners = reproject(
            np.array(
                [
                    shapely.Point(c.x - side / 2, c.y - side / 2),
                    shapely.Point(c.x + side / 2, c.y + side / 2),
                ]
            ),
            RD_NEW,
            WGS84,
        )
        out.append(f"{corners[0].x:.6f},{corners[0].y:.6f},{corners[1].x:.6f},{corners[1].y:.6f}")
    return out


def tiles_for(engine, layer: str, z: int, n: int, seed: int = 13) -> list[tuple[int, int, int]]:  # noqa: ANN001
    """Up to ``n`` distinct WebMercatorQuad tiles at zoom ``z`` holding random features of ``layer``."""
    with engine.connect() as conn:
        ff = read_features(conn, layer)
    rng = np.random.default_rng(seed + z)
    pts = reproject(
        shapely.centroid(
            ff.geometries[rng.choice(len(ff.fids), min(len(ff.fids), n * 20), replace=False)]
        ),
        RD_NEW,
        WGS84,
    )
    tiles: list[tuple[int, int, int]] = []
    for p in pts:
        k = 1 << z
        t = (
            z,
            int((p.x + 180) / 360 * k),
            int((1 - math.asinh(math.tan(math.radians(p.y))) / math.pi) / 2 * k),
        )
        if t not in tiles:
            tiles.append(t)
        if len(tiles) == n:
            break
    return tiles


def wait_for(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    """Until ``url`` answers 200 (or the process dies)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"server exited: {proc.stderr.read().decode()[-3000:] if proc.stderr else ''}"
            )
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


#: Our server as ``ruimte serve`` runs it (:func:`app.guards.server_options`: the HTTP protocol
#: and its bounds), with the log level and access log as tipg's below. Run with the checkout as
#: working directory, so that ``app`` is imported from it. A checkout whose options name no
#: protocol ran on h11 (httptools was not installed before it was chosen), so it gets h11.
SERVE_OURS = """
import sys, uvicorn
from app.guards import server_options
from app.settings import get_web_settings
options = {"http": "h11", **server_options(get_web_settings())}
uvicorn.run("app.main:create_app", factory=True, host="127.0.0.1", port=int(sys.argv[1]),
            workers=int(sys.argv[2]), log_level="warning", access_log=False, **options)
"""


def start_ours(
    url: str, port: int, workers: int, cache_mb: int = 64, root: Path = ROOT
) -> subprocess.Popen:
    """uvicorn serving ``app.main:create_app`` (factory) with ``workers`` processes and a tile
    cache of ``cache_mb`` (0: every tile is made, as when the cache is cold), from the code in
    ``root`` (another checkout: an earlier commit's code, e.g. ``git worktree add``)."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "RUIMTE_WEB_BASEMAP": "none",
        "RUIMTE_WEB_TILE_CACHE_MB": str(cache_mb),
    }
    return subprocess.Popen(
        [sys.executable, "-c", SERVE_OURS, str(port), str(workers)],
        env=env,
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def start_tipg(venv: Path, url: str, port: int, workers: int) -> subprocess.Popen:
    """uvicorn serving ``tipg.main:app`` from its own venv with ``workers`` processes."""
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))},
        "DATABASE_URL": plain,
        "TIPG_DB_SCHEMAS": json.dumps([TIPG_SCHEMA]),
        "TIPG_MAX_FEATURES_PER_TILE": str(TILE_CAP),
    }
    return subprocess.Popen(
        [
            str(venv / "bin" / "uvicorn"),
            "tipg.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd="/tmp",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wrk(base: str, paths: list[str], seconds: int, connections: int, tmp: Path) -> dict[str, float]:
    """Drive ``paths`` (cycled) with wrk; latency in ms and requests per second."""
    lua, urls = tmp / "bench.lua", tmp / "urls.txt"
    lua.write_text(WRK_LUA)
    urls.write_text("\n".join(paths) + "\n")
    threads = str(min(2, connections))
    subprocess.run(
        [
            "wrk",
            "-t",
            threads,
            "-c",
            str(connections),
            "-d",
            "3s",
            "--timeout",
            "60s",
            "-s",
            str(lua),
            base,
            "--",
            str(urls),
        ],
        capture_output=True,
        check=True,
    )
    proc = subprocess.run(
        [
            "wrk",
            "-t",
            threads,
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--timeout",
            "60s",
            "-s",
            str(lua),
            base,
            "--",
            str(urls),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))
    r = json.loads(line[7:])
    return {
        "requests": r["requests"],
        "req_per_s": r["requests"] / (r["duration_us"] / 1e6),
        "p50_ms": r["p50_us"] / 1000,
        "p95_ms": r["p95_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000,
        "max_ms": r["max_us"] / 1000,
        "non2xx": r["non2xx"],
        "socket_errors": r["socket_errors"],
        "kb_per_response": r["bytes"] / max(r["requests"], 1) / 1024,
    }


def content_check(base: str, paths: list[str], kind: str) -> list[int]:
    """Features per response for a sample of ``paths`` (items: numberReturned; tiles: decoded)."""
    counts = []
    with httpx.Client(timeout=60) as client:
        for p in paths[:15]:
            resp = client.get(base + p)
            resp.raise_for_status()
            if kind == "items":
                counts.append(len(resp.json()["features"]))
            else:
                layers = mapbox_vector_tile.decode(resp.content) if resp.content else {}
                counts.append(sum(len(v["features"]) for v in layers.values()))
    return counts


#: Offsets of the deep-paging scenarios (limit 1,000): issue 14's "any page up to 90,000".
PAGE_OFFSETS = (0, 10_000, 50_000, 90_000)
PAGE_LIMIT = 1000


def keyset_paths(base: str, layer: str, offsets: tuple[int, ...]) -> dict[int, str]:
    """The URL (path and query) of the keyset page starting at each offset, found by walking
    the next links of ``layer``'s items from the first page (our server only)."""
    out: dict[int, str] = {}
    path = f"/ogc/collections/{layer}/items?limit={PAGE_LIMIT}&skipGeometry=true"
    position = 0
    with httpx.Client(timeout=120) as client:
        while path and position <= max(offsets):
            if position in offsets:
                # The page as a client reads it: with geometry (the walk itself skips it).
                # The next links order their parameters as they like, so they are parsed:
                # a plain text replace missed it and earlier runs timed keyset pages
                # without geometry (half the bytes).
                split = urlsplit(path)
                query = [(k, v) for k, v in parse_qsl(split.query) if k != "skipGeometry"]
                out[position] = urlunsplit(split._replace(query=urlencode(query)))
            resp = client.get(base + path)
            resp.raise_for_status()
            body = resp.json()
            position += body["numberReturned"]
            nxt = [lk["href"] for lk in body["links"] if lk["rel"] == "next"]
            path = nxt[0].removeprefix(base) if nxt else ""
    return out


def scenarios_for(engine, layer: str, keyset: dict[int, str]) -> dict[str, dict[str, list[str]]]:  # noqa: ANN001
    """Per scenario, the URL paths for each server (the same requests)."""
    out: dict[str, dict[str, list[str]]] = {}
    windows = item_windows(engine, layer, 200)
    tipg_items = f"/collections/{TIPG_SCHEMA}.{view_name(layer)}/items"
    ours_items = [f"/ogc/collections/{layer}/items?limit=100&bbox={w}" for w in windows]
    out["items (limit 100, bbox)"] = {
        "ours": ours_items,
        "ours (before)": ours_items,
        "ours (tile cache on)": ours_items,
        "ours (before) (tile cache on)": ours_items,
        "tipg": [f"{tipg_items}?limit=100&bbox={w}" for w in windows],
    }
    for offset in PAGE_OFFSETS:
        ours = [f"/ogc/collections/{layer}/items?limit={PAGE_LIMIT}&offset={offset}"]
        out[f"items offset {offset:,} (limit 1,000)"] = {
            "ours": ours,
            "tipg": [f"{tipg_items}?limit={PAGE_LIMIT}&offset={offset}"],
        }
        if offset in keyset:
            out[f"items keyset page at {offset:,} (limit 1,000)"] = {"ours": [keyset[offset]]}
    for z in range(10, 15):
        tiles = tiles_for(engine, layer, z, 60)
        ours = [f"/tiles/{layer}/{z}/{x}/{y}.mvt" for z, x, y in tiles]
        out[f"tiles z{z}"] = {
            "ours": ours,
            "ours (before)": ours,
            "ours (tile cache on)": ours,
            "ours (before) (tile cache on)": ours,
            "tipg": [
                f"/collections/{TIPG_SCHEMA}.{view_name(layer)}/tiles/WebMercatorQuad/{z}/{x}/{y}"
                for z, x, y in tiles
            ],
        }
    return out


#: The servers: ours without a tile cache (every tile made: cold), ours with it (warm after
#: wrk's 3 s warm-up) and tipg. All run at once; each scenario drives them in turn, the order
#: turning from scenario to scenario (interleaved: load that comes and goes hits all alike).
#: "ours (before)" and "ours (before) (tile cache on)": the same two from the checkout given by
#: ``--before-root``.
SERVERS = ("ours", "ours (before)", "ours (tile cache on)", "ours (before) (tile cache on)", "tipg")


def selected(prefixes: list[str]):  # noqa: ANN201 - a predicate
    """Whether a scenario is one asked for (``--scenarios``: name prefixes; none: all)."""
    return lambda scenario: not prefixes or any(scenario.startswith(p) for p in prefixes)


def load_layers(engine, size: int, shapes: list[str]) -> dict[str, str]:  # noqa: ANN001
    """The demo layers and one large layer per data shape; layer name by shape."""
    names = {shape: f"bench-{shape}-{size}" for shape in shapes}
    with engine.connect() as conn:
        have = {i.name for i in list_layers(conn)}
    if "bedrijventerreinen" not in have:
        load_demo_data(engine, DemoOptions(seed=2025, online=False), ImportPolicy())
    for shape, layer in names.items():
        if layer in have:  # a --database-url from an earlier run keeps its data
            continue
        with tempfile.TemporaryDirectory() as tmp:
            path = write_gpkg(size, Path(tmp) / f"{layer}.gpkg", shape)
            import_file(
                engine,
                ImportRequest(path=path, kind="bedrijventerreinen", name=layer, synthetic=True),
                ImportPolicy(),
            )
    # What a server does after the first WebMercatorQuad tile of each layer version (in the
    # background there): transform the features to Web Mercator once (layers.tiles). Done here,
    # before anything is measured, so that every run measures the same state; no tile is kept.
    with engine.begin() as conn:
        for info in list_layers(conn):
            prepare_tile_geometries(conn, info.id)
    # Vacuumed and analyzed as autovacuum leaves a table within a minute or so of an import
    # (the visibility map lets deep pages walk an index alone): the same state for every
    # server and every run, however quickly the measuring starts.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) features"))
        conn.execute(text("VACUUM (ANALYZE) tile_geometries"))
    return names


def settle(engine, timeout: float = 30.0) -> int:  # noqa: ANN001
    """Wait until no statement of a server still runs in the database (a request wrk gave up
    on keeps its query running there: tipg's deep pages ran on for minutes and loaded the
    next scenarios); after ``timeout`` seconds cancel what still runs. How many were cancelled."""
    others = (
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    )
    end = time.monotonic() + timeout
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        while time.monotonic() < end:
            if not conn.execute(text(others)).all():
                return 0
            time.sleep(0.2)
        pids = [pid for (pid,) in conn.execute(text(others)).all()]
        for pid in pids:
            conn.execute(text("SELECT pg_cancel_backend(:pid)"), {"pid": pid})
    return len(pids)


def run(url: str, args: argparse.Namespace) -> dict[str, object]:
    """Load, serve with every server at once, measure each scenario on each in turn."""
    migrate(url)
    engine = create_engine(url)
    layers = load_layers(engine, args.size, args.shapes)
    create_views(engine)
    results: dict[str, object] = {
        "machine": machine_info(engine),
        "layers": layers,
        "workers": args.workers,
        "connections": args.connections,
        "seconds": args.seconds,
        "shapes": {},
    }
    starters = {
        "ours": lambda port: start_ours(url, port, args.workers, cache_mb=0),
        "ours (before)": lambda port: start_ours(
            url, port, args.workers, cache_mb=0, root=Path(args.before_root or ROOT)
        ),
        "ours (tile cache on)": lambda port: start_ours(url, port, args.workers),
        "ours (before) (tile cache on)": lambda port: start_ours(
            url, port, args.workers, root=Path(args.before_root or ROOT)
        ),
        "tipg": lambda port: start_tipg(Path(args.tipg), url, port, args.workers),
    }
    probes = {n: "/ogc/collections" for n in SERVERS if n.startswith("ours")}
    procs: dict[str, tuple[subprocess.Popen, str]] = {}
    servers = [n for n in SERVERS if n in args.servers]
    if any(n.startswith("ours (before") for n in servers) and not args.before_root:
        raise SystemExit("the servers 'ours (before…)' need --before-root")
    turn = 0
    try:
        for name in servers:
            port = _free_port()
            procs[name] = (starters[name](port), f"http://127.0.0.1:{port}")
            wait_for(procs[name][1] + probes.get(name, "/collections"), procs[name][0])
        with tempfile.TemporaryDirectory() as tmp:
            for shape, layer in layers.items():
                wanted = selected(args.scenarios)
                keyset = (
                    keyset_paths(procs["ours"][1], layer, PAGE_OFFSETS)
                    if "ours" in procs and wanted("items keyset")
                    else {}
                )
                plan = {k: v for k, v in scenarios_for(engine, layer, keyset).items() if wanted(k)}
                shape_res: dict[str, dict[str, object]] = {}
                for scenario, paths in plan.items():
                    names = [n for n in servers if n in paths]
                    if not names:
                        continue
                    turn += 1
                    for name in names[turn % len(names) :] + names[: turn % len(names)]:
                        base = procs[name][1]
                        kind = "items" if scenario.startswith("items") else "tiles"
                        cancelled = settle(engine)
                        counts = content_check(base, paths[name], kind)
                        load = os.getloadavg()[0]
                        stats = wrk(base, paths[name], args.seconds, args.connections, Path(tmp))
                        stats["features_sample"] = counts
                        stats["load"] = load
                        stats["cancelled_before"] = cancelled
                        shape_res.setdefault(scenario, {})[name] = stats
                        print(
                            f"{shape:9} {name:20} {scenario:40} p50 {stats['p50_ms']:7.1f} ms  "
                            f"p95 {stats['p95_ms']:7.1f} ms  {stats['req_per_s']:7.1f} req/s  "
                            f"non-2xx {stats['non2xx']}  load {load:.2f}  cancelled before {cancelled}",
                            flush=True,
                        )
                results["shapes"][shape] = shape_res
    finally:
        for proc, _ in procs.values():
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:  # still waiting for the database: stop it
                proc.kill()
                proc.wait(20)
    engine.dispose()
    return results


def markdown(res: dict) -> str:
    """The results as Markdown tables, one per data shape, with issue 14's ratios."""
    lines: list[str] = []
    for shape, scenarios in res["shapes"].items():
        lines += [
            f"**Shape `{shape}`** (layer `{res['layers'][shape]}`)",
            "",
            "| scenario | server | p50 (ms) | p95 (ms) | req/s | KB per response "
            "| features per response (sample median) | load (1 min) | p50 / tipg |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for scenario, by_server in scenarios.items():
            tipg = by_server.get("tipg")
            for name in SERVERS:
                r = by_server.get(name)
                if r is None:
                    continue
                label = f"**{name}**" if name.startswith("ours") else name
                vs = ""
                if tipg and name != "tipg":
                    vs = (
                        f"{r['p50_ms'] / tipg['p50_ms']:.2f}×"
                        if tipg["requests"]
                        else "tipg answered none"
                    )
                if not r["requests"]:
                    lines.append(
                        f"| {scenario} | {label} | no response within the {res['seconds']} s run "
                        f"| | | | | {r['load']:.2f} | |"
                    )
                    continue
                lines.append(
                    f"| {scenario} | {label} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
                    f"{r['req_per_s']:.0f} | {r['kb_per_response']:.1f} | "
                    f"{float(np.median(r['features_sample'])):.0f} | {r['load']:.2f} | {vs} |"
                )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(
        prog="python -m bench.ogc_bench", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument(
        "--tipg",
        default="/tmp/tipg-venv",
        help="venv with tipg and uvicorn (default /tmp/tipg-venv)",
    )
    ap.add_argument("--workers", type=int, default=1, help="uvicorn workers per server (default 1)")
    ap.add_argument(
        "--seconds", type=int, default=15, help="measured seconds per scenario (default 15)"
    )
    ap.add_argument("--connections", type=int, default=8, help="concurrent connections (default 8)")
    ap.add_argument(
        "--size", type=int, default=100_000, help="polygons in the large layer (default 100000)"
    )
    ap.add_argument(
        "--shape",
        default="grid,realistic",
        help="data shapes of the large layer, comma-separated (default grid,realistic; "
        "bench/data.py)",
    )
    ap.add_argument(
        "--database-url",
        help="a PostGIS database, empty or from an earlier run (default: a throwaway cluster)",
    )
    ap.add_argument(
        "--scenarios",
        default="",
        help="only the scenarios whose names start with one of these, comma-separated "
        "(e.g. 'tiles' or 'tiles z14,items (limit'; default: all)",
    )
    ap.add_argument(
        "--before-root",
        help="a checkout of an earlier commit for the server 'ours (before)' (same venv)",
    )
    ap.add_argument(
        "--servers",
        default="",
        help="servers to measure, comma-separated, from: "
        + ", ".join(SERVERS)
        + " (default all; the 'ours (before…)' servers only with --before-root)",
    )
    args = ap.parse_args(argv)
    args.shapes = [x.strip() for x in args.shape.split(",") if x.strip()]
    args.scenarios = [x.strip() for x in args.scenarios.split(",") if x.strip()]
    args.servers = [x.strip() for x in args.servers.split(",") if x.strip()] or [
        n for n in SERVERS if not n.startswith("ours (before") or args.before_root
    ]
    unknown = sorted(set(args.servers) - set(SERVERS))
    if unknown:
        print(f"unknown servers {unknown}; known: {', '.join(SERVERS)}", file=sys.stderr)
        return 2
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    if "tipg" in args.servers and not (Path(args.tipg) / "bin" / "uvicorn").exists():
        print(
            f"no tipg venv at {args.tipg}: python3 -m venv {args.tipg} && "
            f"{args.tipg}/bin/pip install tipg 'uvicorn[standard]'",
            file=sys.stderr,
        )
        return 2
    if args.database_url:
        res = run(args.database_url, args)
    else:
        with throwaway_cluster() as url:
            res = run(url, args)
    res["load_average"] = os.getloadavg()
    res["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    res["tipg_version"] = (
        subprocess.run(
            [str(Path(args.tipg) / "bin" / "python"), "-c", "import tipg; print(tipg.__version__)"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        if "tipg" in args.servers
        else "not run"
    )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"ogc-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(res, indent=2, default=str))
    print(markdown(res))
    print(
        f"\nmachine: {res['machine']}\ntipg {res['tipg_version']}\nload average: {res['load_average']}\nresults: {out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
