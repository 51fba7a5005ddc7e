"""One cold vector tile at a time, in-process: this tree's ``layers.tiles`` against an earlier one.

Usage::

    .venv/bin/python -m bench.tile_bench --database-url URL [--before main] [--tiles 60]
        [--rounds 3] [--zooms 10,12,14] [--shape grid,realistic]

``bench.ogc_bench`` measures tiles through HTTP at 8 connections, where the p50 is mostly the
queue; this measures what one tile costs on its own: :func:`layers.tiles.layer_tile_checked`
(what the tile route calls on a cold cache) on one pooled connection, no HTTP, no cache.

The database is one that ``bench.ogc_bench --database-url URL`` has loaded (the layers
``bench-{shape}-100000``). ``--before`` names a git revision: its ``layers/tiles.py`` is loaded
as a module of its own beside the current one, and the two make the same tiles in turn, the
order shuffled per tile (interleaved: load that comes and goes hits both alike). Every tile is
decoded from both and compared (feature ids, properties, counts), so a faster tile that holds
something else is reported, not hidden. The 1-minute load average is printed per zoom.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import types
from datetime import UTC, datetime
from pathlib import Path

import mapbox_vector_tile
from sqlalchemy import create_engine

import layers.tiles as after_tiles
from app.reads import read_connection
from bench.ogc_bench import tiles_for
from layers.access import PUBLIC
from layers.kinds import load_kinds
from layers.query import FeatureQuery
from layers.store import get_layer

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"


def load_before(rev: str):  # noqa: ANN201 - a module
    """``layers/tiles.py`` of git revision ``rev``, as a module of its own (``tiles_before``;
    its data files are read from this tree's ``layers/data``)."""
    source = subprocess.run(
        ["git", "show", f"{rev}:layers/tiles.py"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    module = types.ModuleType("tiles_before")
    module.__file__ = str(ROOT / "layers" / "tiles.py")
    sys.modules["tiles_before"] = module
    exec(compile(source, f"{rev}:layers/tiles.py", "exec"), module.__dict__)  # noqa: S102
    return module


def _content(data: bytes) -> dict:
    """A tile's features by id: properties with numbers as floats (an MVT int 12 and double
    12.0 are the same number to a map)."""
    layers = mapbox_vector_tile.decode(data) if data else {}
    out = {}
    for layer in layers.values():
        for f in layer["features"]:
            props = {
                k: float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
                for k, v in f["properties"].items()
            }
            out[f["id"]] = props
    return out


def run(args: argparse.Namespace) -> dict:
    """Every zoom of every shape: both modules in turn, per tile."""
    engine = create_engine(args.database_url, connect_args={"options": "-c jit=off"})
    kind = load_kinds()["bedrijventerreinen"]
    q = FeatureQuery(viewer=PUBLIC)
    res: dict = {"before": args.before, "zooms": {}}
    modules = {"before": load_before(args.before), "after": after_tiles}
    with read_connection(engine) as conn:
        for shape in args.shapes:
            layer = f"bench-{shape}-{args.size}"
            info = get_layer(conn, layer, with_versions=False)
            if hasattr(after_tiles, "prepare_now"):
                after_tiles.prepare_now(engine, info)
            for z in args.zooms:
                tiles = tiles_for(engine, layer, z, args.tiles)
                times: dict[str, list[float]] = {name: [] for name in modules}
                returned, differ = [], 0
                load = os.getloadavg()[0]
                for rnd in range(args.rounds):
                    for _, x, y in tiles:
                        names = list(modules)
                        random.shuffle(names)
                        made = {}
                        for name in names:
                            mod = modules[name]
                            req = mod.TileRequest(mod.WEB_MERCATOR_QUAD, z, x, y, layer)
                            t0 = time.perf_counter()
                            tile, _ = mod.layer_tile_checked(conn, info, kind, req, q)
                            times[name].append((time.perf_counter() - t0) * 1000)
                            made[name] = tile
                        if rnd == 0:
                            a, b = made["before"], made["after"]
                            returned.append(b.returned)
                            if _content(a.data) != _content(b.data) or a.headers() != b.headers():
                                differ += 1
                row = {
                    name: {
                        "p50_ms": statistics.median(v),
                        "mean_ms": statistics.mean(v),
                        "p95_ms": sorted(v)[int(0.95 * (len(v) - 1))],
                    }
                    for name, v in times.items()
                }
                row |= {
                    "tiles": len(tiles),
                    "features_median": statistics.median(returned) if returned else 0,
                    "different_tiles": differ,
                    "load": load,
                }
                res["zooms"][f"{shape} z{z}"] = row
                print(
                    f"{shape:9} z{z}  before p50 {row['before']['p50_ms']:8.2f} ms  "
                    f"after p50 {row['after']['p50_ms']:8.2f} ms  "
                    f"({row['after']['p50_ms'] / row['before']['p50_ms']:.2f}×)  "
                    f"features {row['features_median']:.0f}  different tiles {differ}  "
                    f"load {load:.2f}",
                    flush=True,
                )
    engine.dispose()
    return res


def markdown(res: dict) -> str:
    """The results as a Markdown table."""
    lines = [
        f"| tiles | before ({res['before']}) p50, ms | after p50, ms | after / before "
        "| before p95 | after p95 | features (median) | tiles differing | load (1 min) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in res["zooms"].items():
        b, a = r["before"], r["after"]
        lines.append(
            f"| {name} ({r['tiles']}) | {b['p50_ms']:.1f} | {a['p50_ms']:.1f} | "
            f"{a['p50_ms'] / b['p50_ms']:.2f}× | {b['p95_ms']:.1f} | {a['p95_ms']:.1f} | "
            f"{r['features_median']:.0f} | {r['different_tiles']} | {r['load']:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(
        prog="python -m bench.tile_bench", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("--database-url", required=True, help="a database loaded by bench.ogc_bench")
    ap.add_argument("--before", default="main", help="git revision to compare with (main)")
    ap.add_argument("--tiles", type=int, default=60, help="tiles per zoom (default 60)")
    ap.add_argument("--rounds", type=int, default=3, help="times each tile is made (default 3)")
    ap.add_argument("--zooms", default="10,12,14", help="zoom levels (default 10,12,14)")
    ap.add_argument("--shape", default="grid,realistic", help="data shapes (default both)")
    ap.add_argument("--size", type=int, default=100_000, help="polygons per layer (100000)")
    args = ap.parse_args(argv)
    args.zooms = [int(z) for z in args.zooms.split(",")]
    args.shapes = [s.strip() for s in args.shape.split(",") if s.strip()]
    res = run(args)
    res["load_average"] = os.getloadavg()
    res["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"tiles-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(res, indent=2))
    print(markdown(res))
    print(f"\nraw figures: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
