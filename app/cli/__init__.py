"""The ``ruimte`` command: one Typer app with a sub-app per concern."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli import dask, db, layers, monitor, qgis, scenario, serve, users
from app.cli.common import run_app


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"ruimte-circulair {version('ruimte-circulair')}")
        except PackageNotFoundError:
            typer.echo("ruimte-circulair (version unknown: not installed as a package)")
        raise typer.Exit()


cli = typer.Typer(
    name="ruimte",
    help="Ruimte Circulair: kaartlagen, ruimtebeslag scenarios and maps for a province or the "
    "whole country (RUIMTE_WORK_AREA).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@cli.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Ruimte Circulair: kaartlagen, ruimtebeslag scenarios and maps for a province or the whole
    country (the work area, RUIMTE_WORK_AREA: a CBS province code or name, or NL)."""


cli.add_typer(db.app, name="db")
cli.add_typer(dask.app, name="dask")
cli.add_typer(layers.app, name="layers")
cli.add_typer(scenario.app, name="scenario")
cli.add_typer(monitor.app, name="monitor")
cli.add_typer(users.users, name="users")
cli.add_typer(users.tokens, name="tokens")
layers.register_demo_data(cli)
scenario.register_indicators(cli)
serve.register(cli)
qgis.register(layers.app, scenario.app)


def main() -> None:
    """Entry point of the ``ruimte`` console script."""
    run_app(cli)
