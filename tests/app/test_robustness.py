"""The service survives a database restart: 503 problem+json during the outage, 2xx after,
no 500s, and every acknowledged write is still there."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import create_engine

from app.database import migrate, replace_closed_connections
from app.localdb import LocalCluster
from app.settings import LocalDatabaseSettings
from layers.demo import DemoOptions, load_demo_data
from layers.importer import ImportPolicy
from tests.app.conftest import LiveServer, _free_port, auth, make_app, seed_users

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def own_cluster():
    """A PostGIS cluster of this module alone, so that it can be stopped and started."""
    base = Path(tempfile.mkdtemp(prefix="ruimte-restart-", dir="/tmp"))
    base.chmod(0o755)
    cluster = LocalCluster(
        LocalDatabaseSettings(_env_file=None, data_dir=base / "pgdata", port=_free_port())
    )
    url = cluster.up()
    migrate(url)
    # As app.database.get_engine makes it: no ping, closed connections replaced at checkout.
    engine = replace_closed_connections(create_engine(url, pool_size=10, max_overflow=10))
    load_demo_data(engine, DemoOptions(seed=2025, online=False), ImportPolicy())
    seed_users(engine)
    try:
        yield cluster, engine
    finally:
        engine.dispose()
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)


def _feature(i: int) -> dict:
    j = i % 2500
    x, y = 5.05 + (j % 50) * 0.002, 52.02 + (j // 50) * 0.002
    ring = [[x, y], [x + 0.0008, y], [x + 0.0008, y + 0.0006], [x, y + 0.0006], [x, y]]
    return {
        "type": "Feature",
        "properties": {
            "naam": f"Last {i}",
            "gemeente": "GM0344",
            "doel": "test",
            "status": "zacht",
        },
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def test_database_restart_under_load(own_cluster):
    cluster, engine = own_cluster
    app = make_app(engine)
    with LiveServer(app) as server:
        base = server.url
        stop = threading.Event()
        acknowledged: list[int] = []
        codes: dict[int, int] = {}
        lock = threading.Lock()

        def writer(k: int) -> None:
            i = k * 10_000
            with httpx.Client(timeout=30) as c:
                while not stop.is_set():
                    r = c.post(
                        f"{base}/api/layers/reserveringen/features",
                        json=_feature(i),
                        headers=auth("provincie"),
                    )
                    with lock:
                        codes[r.status_code] = codes.get(r.status_code, 0) + 1
                        if r.status_code == 201:
                            acknowledged.append(r.json()["id"])
                    if r.status_code == 503:
                        assert r.headers["content-type"] == "application/problem+json"
                        time.sleep(0.05)
                    i += 1

        def reader() -> None:
            with httpx.Client(timeout=30) as c:
                while not stop.is_set():
                    r = c.get(
                        f"{base}/api/layers/bedrijventerreinen/features?limit=50&bbox=5.0,52.0,5.2,52.2"
                    )
                    with lock:
                        codes[r.status_code] = codes.get(r.status_code, 0) + 1
                    if r.status_code == 503:
                        time.sleep(0.05)

        threads = [threading.Thread(target=writer, args=(k,)) for k in range(3)] + [
            threading.Thread(target=reader)
        ]
        for t in threads:
            t.start()
        time.sleep(3)
        cluster.stop()
        time.sleep(0.5)
        with httpx.Client(timeout=10) as c:
            down = c.get(f"{base}/readyz")
            outage = c.get(f"{base}/api/layers/gemeenten/features?limit=1")
        time.sleep(1.5)
        cluster.start()
        time.sleep(3)
        stop.set()
        for t in threads:
            t.join(30)
        with httpx.Client(timeout=10) as c:
            up = c.get(f"{base}/readyz")
            after = c.get(f"{base}/api/layers/gemeenten/features?limit=1")
            missing = [
                fid
                for fid in acknowledged
                if c.get(f"{base}/api/layers/reserveringen/features/{fid}").status_code != 200
            ]

    assert down.status_code == 503 and down.json()["database"] == "unreachable"
    assert (
        outage.status_code == 503 and outage.headers["content-type"] == "application/problem+json"
    )
    assert up.status_code == 200 and after.status_code == 200
    assert codes.get(500, 0) == 0 and set(codes) <= {200, 201, 503}, codes
    assert codes.get(503, 0) > 0 and codes.get(201, 0) > 0
    assert missing == []


def test_graceful_shutdown_finishes_running_requests(own_cluster):
    """Stopping the server lets a running request (a scenario run of a few seconds) finish."""
    _cluster, engine = own_cluster
    server = LiveServer(make_app(engine))
    server.server.config.timeout_graceful_shutdown = 30
    result: dict[str, int] = {}
    with server:

        def run() -> None:
            with httpx.Client(timeout=60) as c:
                r = c.post(
                    f"{server.url}/api/scenarios/ruimte-voor-economie-industrie-10/runs",
                    headers=auth("provincie"),
                )
                result["status"] = r.status_code

        t = threading.Thread(target=run)
        t.start()
        time.sleep(1.0)  # the run is under way
        server.server.should_exit = True
        t.join(60)
    assert result.get("status") == 201


def test_a_connection_the_server_closed_is_replaced_at_checkout_without_a_ping(database_url):
    """app.database.replace_closed_connections: a backend the server ended (here terminated;
    a restart ends them all) is seen on its socket when it leaves the pool, and replaced."""
    from sqlalchemy import event, text

    from app.database import connection_closed

    checked = create_engine(database_url, pool_size=1, max_overflow=0)
    replace_closed_connections(checked)
    plain = create_engine(database_url, pool_size=1, max_overflow=0)
    statements: list[str] = []
    event.listen(checked, "before_cursor_execute", lambda *a: statements.append(a[2]))
    try:
        pids = {}
        for name, eng in (("checked", checked), ("plain", plain)):
            with eng.connect() as conn:
                pids[name] = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
                raw = conn.connection.dbapi_connection
            assert not connection_closed(raw)  # idle in the pool, alive
        admin = create_engine(database_url)
        with admin.connect() as conn:
            for pid in pids.values():
                conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        admin.dispose()
        time.sleep(0.3)
        statements.clear()
        with checked.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pids["checked"]
        assert statements == ["SELECT pg_backend_pid()"]  # no ping went before it
        with pytest.raises(Exception, match="terminat|closed|server"), plain.connect() as conn:
            conn.execute(text("SELECT 1"))  # without the check the dead connection is used
    finally:
        checked.dispose()
        plain.dispose()
