"""A database restart in the middle of a bounded load: what clients see, and no lost writes.

Usage::

    .venv/bin/python -m bench.restart_bench [--duration 30] [--connections 32] [--outage-at 10] [--outage 5]

What happens:

1. A throwaway PostGIS cluster (fsync on, as in production) is started in /tmp, migrated and
   loaded with the demo data; a provincie-editor and a token are created.
2. ``ruimte serve`` runs as a separate process (one uvicorn worker).
3. ``wrk`` (Debian package ``wrk``) puts ``--connections`` keep-alive connections on loopback
   for ``--duration`` seconds, cycling through feature requests (bbox, limit 100) and vector
   tiles at z10–z14, and counts the status codes (a Lua script).
4. At the same time one Python client writes features (POST, 201 = acknowledged) as fast as
   it gets answers, recording every acknowledged id.
5. ``--outage-at`` seconds in, the database is stopped (``pg_ctl stop -m fast``) and started
   again ``--outage`` seconds later.
6. Afterwards every acknowledged id is looked up in the database: all must be there. The
   status codes seen by wrk and by the writer, and the time from the restart to the first 2xx,
   are reported (Markdown, and ``bench/results/restart-<timestamp>.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import create_engine, text

from app.auth import add_user, create_token
from app.database import migrate
from app.localdb import LocalCluster
from app.settings import LocalDatabaseSettings
from bench.io_bench import _free_port
from layers.demo import DemoOptions, load_demo_data
from layers.importer import ImportPolicy

RESULTS = Path(__file__).parent / "results"

LUA = r"""
-- Cycle through feature and tile requests; count status codes per thread.
local paths = {}
counts = {}          -- global: done() reads it from every thread
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do table.insert(paths, line) end
  i = 0
  counts = {}
end

function request()
  i = (i % #paths) + 1
  return wrk.format("GET", paths[i])
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    for status, n in pairs(c) do total[status] = (total[status] or 0) + n end
  end
  for status, n in pairs(total) do io.write(string.format("STATUS %d %d\n", status, n)) end
  io.write(string.format("LATENCY p50=%d p95=%d max=%d\n", latency:percentile(50), latency:percentile(95), latency.max))
end
"""


def _paths() -> list[str]:
    """Feature requests over the province and tiles at z10–z14 around Utrecht and Amersfoort."""
    out = []
    for dx in range(5):
        for dy in range(4):
            x0, y0 = 4.85 + dx * 0.1, 51.95 + dy * 0.1
            out.append(
                "/api/layers/bedrijventerreinen/features"
                f"?bbox={x0:.2f},{y0:.2f},{x0 + 0.1:.2f},{y0 + 0.1:.2f}&limit=100"
            )
    for z, (x, y) in {
        10: (526, 336),
        11: (1052, 673),
        12: (2105, 1347),
        13: (4211, 2694),
        14: (8422, 5389),
    }.items():
        for dx in (0, 1):
            for layer in ("bedrijventerreinen", "gemeenten"):
                out.append(f"/tiles/{layer}/{z}/{x + dx}/{y}.mvt")
    return out


def _feature(i: int) -> dict:
    j = i % 2500
    x, y = 5.05 + (j % 50) * 0.002, 52.02 + (j // 50) * 0.002
    ring = [[x, y], [x + 0.0008, y], [x + 0.0008, y + 0.0006], [x, y + 0.0006], [x, y]]
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "naam": f"Last {i}",
            "gemeente": "GM0344",
            "doel": "belasting",
            "status": "zacht",
        },
    }


def run(
    duration: int, connections: int, outage_at: float, outage: float, workers: int = 2
) -> dict[str, object]:
    """Set up, load, restart the database, check; return the figures."""
    base_dir = Path(tempfile.mkdtemp(prefix="ruimte-restart-bench-", dir="/tmp"))
    base_dir.chmod(0o755)
    cluster = LocalCluster(
        LocalDatabaseSettings(_env_file=None, data_dir=base_dir / "pgdata", port=_free_port())
    )
    server = None
    try:
        url = cluster.up()
        migrate(url)
        engine = create_engine(url, pool_pre_ping=True)
        load_demo_data(engine, DemoOptions(seed=2025, online=False), ImportPolicy())
        with engine.begin() as conn:
            add_user(conn, "bench", "provincie-editor")
            token, _ = create_token(conn, "bench", expires_days=1)
        port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "RUIMTE_WEB_BASEMAP": "none",
            "RUIMTE_AUTH_WRITE_RATE_PER_MINUTE": "100000",
            # Several workers must share the session secret (ruimte serve refuses otherwise).
            "RUIMTE_AUTH_SESSION_SECRET": secrets.token_urlsafe(32),
        }
        server_log = base_dir / "serve.log"
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app.cli",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=server_log.open("wb"),
        )
        base = f"http://127.0.0.1:{port}"
        ready = False
        for _ in range(200):
            try:
                ready = httpx.get(f"{base}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                pass
            if ready or server.poll() is not None:
                break
            time.sleep(0.2)
        if not ready:
            tail = server_log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"ruimte serve did not become ready on {base}:\n{tail}")
        paths_file = base_dir / "paths.txt"
        paths_file.write_text("\n".join(_paths()) + "\n")
        lua = base_dir / "cycle.lua"
        lua.write_text(LUA)

        writes: dict[int, int] = {}
        acknowledged: list[int] = []
        first_ok_after_restart: list[float] = []
        restarted_at: list[float] = []
        stop = threading.Event()

        def writer() -> None:
            i = 0
            with httpx.Client(timeout=30) as c:
                while not stop.is_set():
                    try:
                        r = c.post(
                            f"{base}/api/layers/reserveringen/features",
                            json=_feature(i),
                            headers={"Authorization": f"Bearer {token}"},
                        )
                        code = r.status_code
                    except httpx.HTTPError:
                        code = 0
                    writes[code] = writes.get(code, 0) + 1
                    if code == 201:
                        acknowledged.append(r.json()["id"])
                        if restarted_at and not first_ok_after_restart:
                            first_ok_after_restart.append(time.monotonic() - restarted_at[0])
                    elif code == 503:
                        time.sleep(0.05)
                    i += 1

        def outage_cycle() -> None:
            time.sleep(outage_at)
            cluster.stop()
            time.sleep(outage)
            cluster.start()
            restarted_at.append(time.monotonic())

        wrk = subprocess.Popen(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{duration}s",
                "--timeout",
                "10s",
                "-s",
                str(lua),
                base,
                "--",
                str(paths_file),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threads = [threading.Thread(target=writer), threading.Thread(target=outage_cycle)]
        for t in threads:
            t.start()
        wrk_out, _ = wrk.communicate(timeout=duration + 120)
        stop.set()
        for t in threads:
            t.join(60)
        statuses = {int(a): int(b) for a, b in re.findall(r"STATUS (\d+) (\d+)", wrk_out)}
        lat = re.search(r"LATENCY p50=(\d+) p95=(\d+) max=(\d+)", wrk_out)
        socket_errors = re.search(r"Socket errors: (.*)", wrk_out)
        with engine.connect() as conn:
            found = set(
                conn.execute(
                    text("SELECT fid FROM features WHERE fid = ANY(:ids) AND version_to IS NULL"),
                    {"ids": acknowledged},
                ).scalars()
            )
        lost = sorted(set(acknowledged) - found)
        engine.dispose()
        return {
            "duration_s": duration,
            "connections": connections,
            "workers": workers,
            "outage_at_s": outage_at,
            "outage_s": outage,
            "wrk_statuses": statuses,
            "wrk_requests": sum(statuses.values()),
            "wrk_latency_ms": {
                k: int(v) / 1000 for k, v in zip(("p50", "p95", "max"), lat.groups(), strict=True)
            }
            if lat
            else None,
            "wrk_socket_errors": socket_errors.group(1) if socket_errors else "none",
            "writer_statuses": writes,
            "acknowledged_writes": len(acknowledged),
            "lost_acknowledged_writes": len(lost),
            "first_write_ok_after_restart_s": first_ok_after_restart[0]
            if first_ok_after_restart
            else None,
            "wrk_raw": wrk_out,
        }
    finally:
        if server is not None:
            server.terminate()
            server.wait(15)
        cluster.destroy()
        shutil.rmtree(base_dir, ignore_errors=True)


def markdown(res: dict) -> str:
    """The figures as Markdown."""

    def codes(d: dict) -> str:
        return ", ".join(f"{k}: {v:,}" for k, v in sorted(d.items(), key=lambda kv: int(kv[0])))

    lat = res["wrk_latency_ms"] or {}
    return "\n".join(
        [
            "| what | figure |",
            "|---|---|",
            f"| load | wrk, {res['connections']} connections, {res['duration_s']} s, "
            f"{res['workers']} uvicorn workers; "
            f"database down at {res['outage_at_s']} s for {res['outage_s']} s |",
            f"| reads (features + tiles): status codes | {codes(res['wrk_statuses'])} |",
            f"| reads: total, latency p50 / p95 / max | {res['wrk_requests']:,}; "
            f"{lat.get('p50', 0):.1f} / {lat.get('p95', 0):.1f} / {lat.get('max', 0):.1f} ms |",
            f"| reads: socket errors | {res['wrk_socket_errors']} |",
            f"| writes: status codes | {codes(res['writer_statuses'])} |",
            f"| acknowledged writes / lost | {res['acknowledged_writes']:,} / **{res['lost_acknowledged_writes']}** |",
            f"| first acknowledged write after the restart | {res['first_write_ok_after_restart_s'] or 0:.2f} s |",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(
        prog="python -m bench.restart_bench", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("--duration", type=int, default=30, help="seconds of load (default 30)")
    ap.add_argument(
        "--connections", type=int, default=32, help="wrk connections on loopback (default 32)"
    )
    ap.add_argument(
        "--outage-at",
        type=float,
        default=10.0,
        help="seconds into the load when the database stops (default 10)",
    )
    ap.add_argument(
        "--outage", type=float, default=5.0, help="seconds the database stays down (default 5)"
    )
    ap.add_argument(
        "--workers", type=int, default=2, help="uvicorn workers of the service (default 2)"
    )
    args = ap.parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    res = run(args.duration, args.connections, args.outage_at, args.outage, args.workers)
    res["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    res["load_average"] = os.getloadavg()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"restart-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(res, indent=2, default=str))
    print(markdown(res))
    print(f"\nresults: {out}")
    bad = res["lost_acknowledged_writes"] or any(
        int(k) >= 500 and int(k) != 503 for k in {**res["wrk_statuses"], **res["writer_statuses"]}
    )
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
