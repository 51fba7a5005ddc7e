"""The ``ruimte`` command: one Typer app with a sub-app per concern."""

from __future__ import annotations

import typer

from app.cli import db, layers, scenario, serve
from app.cli.common import run_app

cli = typer.Typer(
    name="ruimte",
    help="Ruimte Circulair: kaartlagen, ruimtebeslag scenarios and maps for the province of Utrecht.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
cli.add_typer(db.app, name="db")
cli.add_typer(layers.app, name="layers")
cli.add_typer(scenario.app, name="scenario")
layers.register_demo_data(cli)
scenario.register_indicators(cli)
serve.register(cli)


def main() -> None:
    """Entry point of the ``ruimte`` console script."""
    run_app(cli)
