"""Fixtures for the web service: the app on the test database, with and without demo data,
a live uvicorn server and headless Chromium (Debian's /usr/bin/chromium via Playwright)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from app.guards import server_options
from app.main import create_app
from app.settings import AuthSettings, PlanningSettings, WebSettings
from layers.demo import DemoOptions, load_demo_data
from layers.importer import ImportPolicy
from tests.conftest import empty_data_tables

#: Test users (role, gemeente) and their fixed tokens, seeded with the demo data.
USERS = {
    "admin": ("admin", None),
    "provincie": ("provincie-editor", None),
    "utrecht": ("gemeente-editor", "GM0344"),
    "amersfoort": ("gemeente-editor", "GM0307"),
    "lezer": ("viewer", None),
}
TOKENS = {name: f"rc_test_{name}_0123456789abcdef" for name in USERS}
TOKEN = TOKENS["provincie"]


def auth(name: str) -> dict[str, str]:
    """Authorization header of a test user."""
    return {"Authorization": f"Bearer {TOKENS[name]}"}


def seed_users(engine) -> None:
    """The test users with their fixed tokens (stored hashed, like any token)."""
    from app.auth import add_user, hash_token
    from app.models import ApiToken

    with engine.begin() as conn:
        for name, (role, gemeente) in USERS.items():
            user = add_user(conn, name, role, gemeente)
            conn.execute(
                ApiToken.__table__.insert().values(
                    user_id=user.id,
                    token_hash=hash_token(TOKENS[name]),
                    prefix=TOKENS[name][:10],
                    description="test",
                )
            )


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
]


#: Hosts of the test clients: Starlette's TestClient says ``testserver``, live servers 127.0.0.1.
TEST_HOSTS = ("testserver", "127.0.0.1", "localhost")


def web_settings(**kw) -> WebSettings:
    return WebSettings(_env_file=None, **{"basemap": "none", "allowed_hosts": TEST_HOSTS, **kw})


def make_app(engine, **web):
    return create_app(
        engine,
        web=web_settings(**web),
        auth=AuthSettings(_env_file=None),
        planning=PlanningSettings(_env_file=None),
    )


def _truncate(engine) -> None:
    empty_data_tables(engine)


@pytest.fixture(scope="module")
def demo_engine(engine):
    """The test database holding the demo data (offline, seed 2025) for a whole module."""
    _truncate(engine)
    load_demo_data(engine, DemoOptions(seed=2025, online=False), ImportPolicy())
    seed_users(engine)
    yield engine
    _truncate(engine)


@pytest.fixture(scope="module")
def client(demo_engine):
    """A TestClient on the app with demo data."""
    with TestClient(make_app(demo_engine)) as c:
        yield c


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """uvicorn serving an app in a thread on 127.0.0.1."""

    def __init__(self, app):
        self.port = _free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                **server_options(app.state.web),
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def live_server(demo_engine):
    """The demo app served by uvicorn for the browser tests (big layers load by bbox above 500)."""
    with LiveServer(make_app(demo_engine, embed_max_features=500)) as server:
        yield server


class PageWatch:
    """A page that records console errors and every request that leaves 127.0.0.1."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.api_calls: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        if (
            url.startswith("http://127.0.0.1:")
            or url.startswith("data:")
            or url.startswith("blob:")
        ):
            if "/api/" in url:
                self.api_calls.append(url)
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()


@pytest.fixture
def page(browser):
    """A fresh page (1280×900) with console and network watches."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL")
    watched = PageWatch(context.new_page())
    yield watched
    context.close()
