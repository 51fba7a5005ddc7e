"""``ruimte serve`` and ``ruimte demo``: the web service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.common import CliError, engine, out
from app.settings import (
    get_auth_settings,
    get_database_settings,
    get_web_settings,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

Host = Annotated[
    str | None,
    typer.Option(help="Address to listen on (default: RUIMTE_WEB_HOST, else 127.0.0.1)."),
]
Port = Annotated[int | None, typer.Option(help="Port (default: RUIMTE_WEB_PORT, else 8000).")]


Workers = Annotated[
    int | None, typer.Option(help="Worker processes (default: RUIMTE_WEB_WORKERS, else 1).")
]


def check_workers(workers: int) -> None:
    """Several workers need one session secret: each would otherwise sign browser sessions with
    a random secret of its own, and a signed-in user would be anonymous on most requests."""
    if workers < 1:
        raise CliError(f"--workers must be at least 1, not {workers}")
    if workers > 1 and not get_auth_settings().session_secret:
        raise CliError(
            f"{workers} workers need a shared session secret: set RUIMTE_AUTH_SESSION_SECRET "
            "(at least 32 random characters, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`), or serve with "
            "--workers 1"
        )


def _workers(workers: int | None) -> int:
    return workers or get_web_settings().workers


def _serve(host: str | None, port: int | None, workers: int | None = None) -> None:
    import uvicorn

    from app.guards import server_options
    from app.main import create_app

    web = get_web_settings()
    host, port, workers = host or web.host, port or web.port, _workers(workers)
    check_workers(workers)
    out.print(
        f"serving Ruimte Circulair at [bold]http://{host}:{port}/[/]  (map: /kaart, API docs: /api-docs)",
        highlight=False,
    )
    engine(statement_timeout_ms=None)  # the database is reachable and migrated
    if workers > 1:
        # Each worker builds its own app (and connection pool) from the settings.
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            timeout_graceful_shutdown=10,
            **server_options(web),
        )
    else:
        uvicorn.run(
            create_app(engine(statement_timeout_ms=None)),
            host=host,
            port=port,
            log_level="info",
            timeout_graceful_shutdown=10,
            **server_options(web),
        )


def register(cli: typer.Typer) -> None:
    """Add ``serve`` and ``demo`` to the top-level app."""

    @cli.command("serve")
    def serve_cmd(host: Host = None, port: Port = None, workers: Workers = None) -> None:
        """Serve the API and the maps (uvicorn) on DATABASE_URL or the local cluster."""
        _serve(host, port, workers)

    @cli.command("demo")
    def demo_cmd(
        host: Host = None,
        port: Port = None,
        workers: Workers = None,
        seed: Annotated[int, typer.Option(help="Seed of the demo data.")] = 2025,
    ) -> None:
        """Everything in one: start the local PostGIS (without DATABASE_URL), migrate, load the demo
        data when the database is empty, run the scenario presets that have no run, and serve.

        Without RUIMTE_API_TOKENS a write token is made for this session and printed."""
        from app.cli.common import stage_progress
        from app.database import database_url, migrate
        from app.settings import import_policy
        from layers.demo import DemoOptions, load_demo_data
        from layers.store import list_layers

        check_workers(_workers(workers))  # before any work: refused later is refused now
        url = database_url(start_local=not get_database_settings().database_url)
        migrate(url)
        eng = engine()
        with eng.connect() as conn:
            empty = not list_layers(conn)
        if empty:
            out.print("empty database: loading the demo data")
            with stage_progress(threshold=0) as progress:
                for line in load_demo_data(
                    eng, DemoOptions(seed=seed), import_policy(), progress=progress
                ):
                    out.print(f"  {line}", highlight=False)
        _run_presets(eng)
        _demo_admin(eng)
        _serve(host, port, workers)


def _demo_admin(eng: Engine) -> None:
    """Without any user yet, make an admin ``demo-admin`` and print a token valid for one day."""
    from app.auth import add_user, create_token, list_users

    with eng.begin() as conn:
        if list_users(conn):
            return
        add_user(conn, "demo-admin", "admin")
        token, _ = create_token(conn, "demo-admin", expires_days=1, description="ruimte demo")
    out.print(f"admin token (one day; Authorization: Bearer …): [bold]{token}[/]", highlight=False)
    out.print("more users and tokens: `ruimte users add`, `ruimte tokens create`", highlight=False)


def _run_presets(eng: Engine) -> None:
    """Run each scenario preset that has no finished run yet, so the maps have something to show."""
    import scenarios
    from app.runs import run_context

    for preset in scenarios.list_presets():
        with eng.connect() as conn:
            done = [
                r for r in scenarios.list_runs(conn, spec_name=preset["name"]) if r.status == "done"
            ]
        if done:
            continue
        run = scenarios.run_scenario(eng, preset["name"], run_context(), created_by="ruimte demo")
        totals = run.result.totals if run.result else None
        out.print(
            f"  scenario {preset['name']}: run {run.id}, "
            f"demand {(totals.demand_ha if totals else 0) or 0:,.0f} ha, "
            f"supply {(totals.supply_ha if totals else 0) or 0:,.0f} ha",
            highlight=False,
        )
