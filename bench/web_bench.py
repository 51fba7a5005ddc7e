"""Latency of the features endpoint and the weight of the map page, on large layers.

Usage::

    .venv/bin/python -m bench.web_bench [--requests 300] [--sizes 10000 100000] [--database-url URL]

What happens:

1. Without ``--database-url`` a throwaway PostGIS cluster is started (as in
   ``bench.io_bench``) and migrated. For each size a deterministic layer of that many
   non-overlapping polygons (``bench.io_bench.generate_terreinen``) is imported with the
   normal import (``layers.importer.import_file``).
2. ``ruimte serve`` runs as a separate process (uvicorn, one worker, no basemap), so the
   client below does not share the server's interpreter.
3. For each layer, ``--requests`` GET requests of
   ``/api/layers/<layer>/features?bbox=<window>&limit=1000`` (CRS84, the default) are
   made one after another over a keep-alive connection, each with another window from a
   fixed random sequence, sized to hold about 1,000 features of the 100,000 layer. Wall
   time per request (until the last byte) gives p50/p95/max and requests per second;
   the number of features and bytes per response are recorded too. Five warm-up
   requests are not counted.
4. The HTML weight of ``/kaart`` with the 100,000-feature layer present (it is loaded by
   bbox, not embedded) and of ``/kaart`` on the demo data alone.

Results are printed as Markdown and written to ``bench/results/web-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx2 as httpx
import numpy as np
import shapely
from sqlalchemy import create_engine

from app.database import migrate
from bench.io_bench import _free_port, machine_info, throwaway_cluster, write_gpkg
from layers.demo import DemoOptions, load_demo_data
from layers.importer import ImportPolicy, ImportRequest, import_file
from spatial.crs import RD_NEW, WGS84, reproject

RESULTS = Path(__file__).parent / "results"
PROVINCE = (114_244.0, 430_005.0, 171_506.0, 479_450.0)


def _windows(n: int, features: int, seed: int = 7) -> list[str]:
    """Random bbox windows (CRS84) that hold about 1,000 of ``features`` spread over the province."""
    rng = np.random.default_rng(seed)
    w = (PROVINCE[2] - PROVINCE[0]) * np.sqrt(1_000 / features) * 1.05
    h = (PROVINCE[3] - PROVINCE[1]) * np.sqrt(1_000 / features) * 1.05
    out = []
    for _ in range(n):
        x = rng.uniform(PROVINCE[0], PROVINCE[2] - w)
        y = rng.uniform(PROVINCE[1], PROVINCE[3] - h)
        corners = reproject(
            np.array([shapely.Point(x, y), shapely.Point(x + w, y + h)]), RD_NEW, WGS84
        )
        out.append(f"{corners[0].x:.6f},{corners[0].y:.6f},{corners[1].x:.6f},{corners[1].y:.6f}")
    return out


def _start_server(url: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "RUIMTE_WEB_BASEMAP": "none",
        "RUIMTE_WEB_PAGE_MAX": "10000",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("ruimte serve did not start: " + proc.stderr.read().decode()[-2000:])


def _latency(client: httpx.Client, base: str, layer: str, windows: list[str]) -> dict[str, object]:
    for w in windows[:5]:
        client.get(f"{base}/api/layers/{layer}/features", params={"bbox": w, "limit": 1000})
    times, counts, sizes = [], [], []
    for w in windows[5:]:
        t0 = time.perf_counter()
        resp = client.get(f"{base}/api/layers/{layer}/features", params={"bbox": w, "limit": 1000})
        body = resp.content
        times.append(time.perf_counter() - t0)
        resp.raise_for_status()
        counts.append(json.loads(body)["numberReturned"])
        sizes.append(len(body))
    ms = np.array(times) * 1000
    return {
        "requests": len(times),
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "max_ms": float(ms.max()),
        "req_per_s": len(times) / sum(times),
        "features_median": statistics.median(counts),
        "kb_median": statistics.median(sizes) / 1024,
    }


#: True once every vector tile layer on the map has drawn the tiles of the view (Leaflet's
#: GridLayer stops "loading" when its last tile is done; canvas and SVG tiles alike).
TILES_DRAWN = """() => { let n = 0; for (const k in window) { const l = window[k];
  if (l && l.rcOptions && l.rcOptions.tiles && l._map) { n++; if (l.isLoading()) return false; } }
  return n > 0; }"""


def kaart_in_chromium(base: str, loads: int = 5) -> dict[str, object]:
    """Open ``/kaart`` in headless Chromium ``loads`` times (a fresh context each: no cache);
    milliseconds until the vector layers are drawn (interactive: the embedded layers' SVG paths
    on the map and the page answering Playwright's polling), until the vector tile layers have
    drawn the view's tiles (canvas for areas and lines, SVG for points), and until the network
    is idle (every bbox load done), and the bytes moved."""
    from playwright.sync_api import sync_playwright

    drawn, tiles, idle, transferred = [], [], [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            for _ in range(loads):
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                sizes: list[int] = []
                page.on("response", lambda r, sizes=sizes: sizes.append(len(r.body() or b"")))
                t0 = time.perf_counter()
                page.goto(f"{base}/kaart")
                page.wait_for_function(
                    "() => window.L && document.querySelectorAll("
                    "'.leaflet-overlay-pane path').length > 0"
                )
                drawn.append((time.perf_counter() - t0) * 1000)
                page.wait_for_function(TILES_DRAWN)
                tiles.append((time.perf_counter() - t0) * 1000)
                page.wait_for_load_state("networkidle")
                idle.append((time.perf_counter() - t0) * 1000)
                transferred.append(sum(sizes))
                context.close()
        finally:
            browser.close()
    return {
        "drawn_ms": statistics.median(drawn),
        "tiles_ms": statistics.median(tiles),
        "idle_ms": statistics.median(idle),
        "bytes": statistics.median(transferred),
        "loads": loads,
    }


def run(url: str, sizes: list[int], requests: int, shape: str = "grid") -> dict[str, object]:
    """Import the layers, serve, measure; return the results."""
    migrate(url)
    engine = create_engine(url)
    load_demo_data(engine, DemoOptions(seed=2025, online=False), ImportPolicy())
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = write_gpkg(n, Path(tmp) / f"bench_{n}.gpkg", shape)
            import_file(
                engine,
                ImportRequest(path=path, kind="bedrijventerreinen", name=f"bench-{n}"),
                ImportPolicy(),
            )
    port = _free_port()
    server = _start_server(url, port)
    base = f"http://127.0.0.1:{port}"
    results: dict[str, object] = {"machine": machine_info(engine), "layers": {}, "shape": shape}
    try:
        with httpx.Client(timeout=60) as client:
            for n in sizes:
                results["layers"][str(n)] = _latency(
                    client, base, f"bench-{n}", _windows(requests + 5, n)
                )
            kaart = client.get(f"{base}/kaart")
            kaart.raise_for_status()
            results["kaart_bytes_with_large_layers"] = len(kaart.content)
            results["kaart_embeds_large_layer"] = (
                '"bench-100000"' in kaart.text
                and "FeatureCollection" in kaart.text.split('"bench-100000"')[1][:400]
            )
        results["kaart_chromium"] = kaart_in_chromium(base)
    finally:
        server.terminate()
        server.wait(10)
    engine.dispose()
    return results


def markdown(res: dict) -> str:
    """The results as a Markdown table."""
    lines = [
        "| layer | requests | p50 (ms) | p95 (ms) | max (ms) | req/s "
        "| features per response (median) | KB per response (median) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, r in res["layers"].items():
        lines.append(
            f"| {int(n):,} polygons | {r['requests']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['max_ms']:.1f} | "
            f"{r['req_per_s']:.1f} | {r['features_median']:.0f} | {r['kb_median']:.0f} |"
        )
    lines.append("")
    lines.append(
        f"`/kaart` with the demo layers and the {', '.join(f'{int(n):,}' for n in res['layers'])}-polygon layers "
        f"(shape `{res['shape']}`): **{res['kaart_bytes_with_large_layers'] / 1024:.0f} KB** of HTML "
        "(target < 1 MB)."
    )
    c = res.get("kaart_chromium")
    if c:
        verdict = "met" if c["drawn_ms"] < 1000 else "**missed**"
        lines.append(
            f"In headless Chromium (median of {c['loads']} loads, no cache): layers drawn and the "
            f"map interactive after **{c['drawn_ms']:.0f} ms** (target < 1 s: {verdict}), the "
            f"vector tiles of the view drawn after {c.get('tiles_ms', float('nan')):.0f} ms, every "
            f"bbox load done after {c['idle_ms']:.0f} ms, {c['bytes'] / 1e6:.2f} MB moved in all."
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(
        prog="python -m bench.web_bench", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument(
        "--requests", type=int, default=300, help="measured requests per layer (default 300)"
    )
    ap.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[10_000, 100_000],
        help="layer sizes (default 10000 100000)",
    )
    ap.add_argument(
        "--database-url", help="an existing empty PostGIS database (default: a throwaway cluster)"
    )
    ap.add_argument(
        "--shape", default="realistic", help="shape of the layers' data (default realistic)"
    )
    args = ap.parse_args(argv)
    if args.database_url:
        res = run(args.database_url, args.sizes, args.requests, args.shape)
    else:
        with throwaway_cluster() as url:
            res = run(url, args.sizes, args.requests, args.shape)
    res["load_average"] = os.getloadavg()
    res["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"web-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(res, indent=2, default=str))
    print(markdown(res))
    print(f"\nmachine: {res['machine']}\nload average: {res['load_average']}\nresults: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
