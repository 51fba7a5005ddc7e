"""The Ruimte monitor on demo data: indicators as of one peildatum, an edition of four
peildata, and checking that edition again.

Usage::

    .venv/bin/python -m bench.monitor_bench [--runs 5] [--database-url URL]

What happens:

1. Without ``--database-url`` a throwaway PostGIS cluster is started under /tmp and migrated,
   and the demo data are loaded (:mod:`bench.scenario_bench`); every layer version is dated
   1 June 2025, so that every peildatum after it reads the demo.
2. Each run: :func:`scenarios.monitor.figures_at` on 2026-01-01 (read six layers at their
   versions as of then, compute every indicator and milestone); :func:`create_edition` with
   four peildata (stored, rolled back); :func:`check_edition` of a stored edition (compute
   again from the pinned versions and compare). Wall time of each.
3. Median, minimum and maximum are printed as Markdown.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date

from sqlalchemy import create_engine, text

from app.database import migrate
from bench.scenario_bench import given, load_demo, throwaway_cluster
from layers.milieucategorie import load_table
from scenarios.monitor import check_edition, create_edition, figures_at, get_edition, load_config

DAYS = [date(2025, 7, 1), date(2026, 1, 1), date(2026, 7, 1), date(2026, 12, 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with given(args.database_url) if args.database_url else throwaway_cluster() as url:
        migrate(url)
        engine = create_engine(url)
        load_demo(engine)
        with engine.begin() as conn:
            conn.execute(text("UPDATE layer_versions SET created_at = '2025-06-01T00:00+02'"))
        config, raw = load_config()
        table = load_table()
        with engine.begin() as conn:
            stored = create_edition(conn, config, raw, DAYS, today=date(2026, 12, 2), table=table)
        times: dict[str, list[float]] = {"figures_at": [], "create_edition": [], "check": []}
        for _ in range(args.runs):
            with engine.connect() as conn:
                t0 = time.perf_counter()
                figures_at(conn, config, date(2026, 1, 1), table)
                times["figures_at"].append(time.perf_counter() - t0)
            conn = engine.connect()
            tx = conn.begin()
            t0 = time.perf_counter()
            create_edition(conn, config, raw, DAYS, today=date(2026, 12, 2), table=table)
            times["create_edition"].append(time.perf_counter() - t0)
            tx.rollback()
            conn.close()
            with engine.connect() as conn:
                t0 = time.perf_counter()
                result = check_edition(conn, get_edition(conn, stored), table)
                times["check"].append(time.perf_counter() - t0)
                assert result["identical"], result
        engine.dispose()
    print("| step | median s | min s | max s |\n|---|---|---|---|")
    for name, values in times.items():
        print(
            f"| {name} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} |"
        )


if __name__ == "__main__":
    main()
