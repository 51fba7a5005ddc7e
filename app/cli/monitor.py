"""``ruimte monitor``: the Ruimte indicators on a peildatum, and stored monitor editions."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import typer

from app.cli.common import CliError, engine, out

app = typer.Typer(
    help="The Ruimte monitor: indicators on a peildatum, editions (series), milestone status.",
    invoke_without_command=True,
)


def _config() -> tuple[Any, dict]:
    from app.monitor_settings import get_monitor_settings
    from scenarios.monitor import load_config

    return load_config(get_monitor_settings().config)


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CliError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None


def _number(value: Any, decimals: int) -> str:
    from app.nl_format import getal

    return getal(value, decimals)


def _print_figures(fig: dict, config: Any) -> None:
    from rich.table import Table

    from scenarios.monitor import reason_text

    table = Table("indicator", "waarde", "eenheid", title=f"Ruimtemonitor op {fig['peildatum']}")
    for key, value in fig["indicators"].items():
        ind = config.indicators[key]
        table.add_row(
            ind.label, _number(value, ind.decimals) if value is not None else "–", ind.unit
        )
    out.print(table)
    ms = Table("mijlpaal", "status", "reden", title="Mijlpalen")
    for m in fig["milestones"]:
        ms.add_row(f"{m['title']} ({m['year']})", m["status"], reason_text(m, config, _number))
    out.print(ms)
    layers = ", ".join(f"{k}@{v}" for k, v in fig["layers"].items()) or "geen"
    out.print(f"Lagen: {layers}" + (" (synthetische demodata)" if fig["synthetic"] else ""))
    for note in fig["notes"]:
        out.print(f"  - {note}", markup=False, highlight=False)


def _errors(func):  # noqa: ANN001, ANN202 - decorator
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from scenarios.errors import ScenarioError

        try:
            return func(*args, **kwargs)
        except ScenarioError as exc:
            raise CliError(exc.message) from None

    return wrapper


@app.callback()
@_errors
def monitor(
    ctx: typer.Context,
    peildatum: Annotated[
        str | None,
        typer.Option(
            help="Compute the indicators as of this date (YYYY-MM-DD); nothing is stored."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The Ruimte indicators as of a peildatum, from the layer versions valid then."""
    if ctx.invoked_subcommand is not None:
        return
    if peildatum is None:
        out.print(ctx.get_help())
        raise typer.Exit(0)
    from scenarios.monitor import check_peildata, figures_at

    day = _day(peildatum, "--peildatum")
    check_peildata([day], date.today())
    config, _raw = _config()
    with engine().connect() as conn:
        fig = figures_at(conn, config, day)
    if as_json:
        print(json.dumps(fig, indent=2, ensure_ascii=False))
        return
    _print_figures(fig, config)


@app.command("edition")
@_errors
def edition_cmd(
    peildatum: Annotated[
        list[str] | None,
        typer.Option(help="A peildatum of the series (repeat); default: 1 January of each year."),
    ] = None,
    title: Annotated[
        str, typer.Option(help="Title of the edition (default: Ruimtemonitor YEAR).")
    ] = "",
) -> None:
    """Compute a series and store it as a new monitor edition (pinned layer versions)."""
    from scenarios.monitor import create_edition, default_peildata

    config, raw = _config()
    today = date.today()
    days = (
        [_day(p, "--peildatum") for p in peildatum]
        if peildatum
        else default_peildata(config, today)
    )
    with engine().begin() as conn:
        edition_id = create_edition(conn, config, raw, days, today=today, title=title)
    out.print(
        f"monitor edition {edition_id} stored: {', '.join(d.isoformat() for d in sorted(days))}"
    )


@app.command("list")
@_errors
def list_cmd() -> None:
    """The stored monitor editions, newest first."""
    from scenarios.monitor import list_editions

    with engine().connect() as conn:
        for e in list_editions(conn):
            out.print(f"{e.id}\t{e.title}\t{', '.join(e.peildata)}\t{e.software_version}")


@app.command("check")
@_errors
def check_cmd(edition: Annotated[int, typer.Argument(help="Edition id.")]) -> None:
    """Compute an edition again from its pinned layer versions; report differences (exit 1)."""
    from scenarios.monitor import check_edition, get_edition

    with engine().connect() as conn:
        result = check_edition(conn, get_edition(conn, edition))
    if result["identical"]:
        out.print(f"edition {edition}: identical figures")
        return
    for d in result["differences"]:
        out.print(f"edition {edition}: {d['peildatum']} {d['field']} differs")
    raise typer.Exit(1)
