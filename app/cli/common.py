"""Shared CLI helpers: consoles, error reporting, the engine, progress bars."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from layers.errors import InvalidFeatures, LayerError, LayerNotFound, did_you_mean

if TYPE_CHECKING:
    from sqlalchemy import Engine

# `import app.cli` stays light so that `ruimte --help` starts at once: the modules for the
# database, geometry and scenarios are imported by the commands that use them (a test counts
# what `import app.cli` loads).

# Wide enough for tables when output goes to a file or a pipe (rich uses 80 columns there).
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

STAGE_LABELS = {"read": "reading", "check": "checking", "store": "storing"}


class CliError(Exception):
    """An error to print (without a traceback) before exiting with status 1."""


def check_output_file(path: Path, option: str = "--output") -> None:
    """A file to write must go into a directory that exists (nothing is created silently)."""
    parent = path.expanduser().parent
    if not parent.is_dir():
        raise CliError(f"{option} {path}: the directory {parent} does not exist (create it first)")


def run_app(app: typer.Typer) -> None:
    """Run ``app``; print known errors as one clear message and exit 1."""
    try:
        app(standalone_mode=True)
    except SystemExit:
        raise
    except InvalidFeatures as exc:
        err.print(f"[bold red]error:[/] {exc.message}")
        for problem, line in zip(exc.problems, exc.lines, strict=False):
            hint = f" ({problem.cli_hint})" if getattr(problem, "cli_hint", None) else ""
            err.print(f"  - {line}{hint}", markup=False, highlight=False)
        sys.exit(1)
    except LayerNotFound as exc:
        err.print(
            f"[bold red]error:[/] {escape(str(exc))}{_layer_suggestion(exc)}", highlight=False
        )
        sys.exit(1)
    except Exception as exc:
        if not isinstance(exc, (CliError, LayerError, *_loaded_errors())):
            raise
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(1)


#: Errors that end a command with their message, by module: a module that was never imported
#: cannot have raised its error, so only loaded modules are looked at.
_KNOWN_ERRORS = (
    ("layers.kinds.schema", "UnknownKind"),
    ("app.database", "DatabaseNotConfigured"),
    ("app.localdb", "LocalDatabaseError"),
    ("spatial.crs", "CRSProblem"),
)


def _loaded_errors() -> tuple[type[BaseException], ...]:
    return tuple(
        getattr(sys.modules[module], name)
        for module, name in _KNOWN_ERRORS
        if module in sys.modules
    )


def _layer_suggestion(exc: LayerNotFound) -> str:
    """ " (did you mean 'x'?)" for an unknown layer name, from the stored layers (the CLI sees
    every layer); "" when there is none close or the database cannot be read."""
    if not exc.layer_name:
        return ""
    from app.database import get_engine
    from layers.store import list_layers

    try:
        with get_engine(None, 0).connect() as conn:
            names = [info.name for info in list_layers(conn, None)]
    except Exception:  # noqa: BLE001 - a suggestion is a nicety; the error itself is printed
        return ""
    return escape(did_you_mean(exc.layer_name, names))


def engine(check_migrations: bool = True, statement_timeout_ms: int | None = 0) -> Engine:
    """The engine for DATABASE_URL or the local cluster, checked to be at the newest migration.

    Command-line work (large imports, scenario runs) has no statement timeout by default;
    the web service passes ``None`` to use ``RUIMTE_DB_STATEMENT_TIMEOUT_MS``.
    """
    from app.database import current_revision, get_engine, head_revision

    eng = get_engine(None, statement_timeout_ms)
    if check_migrations:
        current = current_revision(eng)
        head = head_revision()
        if current != head:
            raise CliError(
                f"the database is at migration {current or '(none)'}, not {head}: run `ruimte db migrate`"
            )
    return eng


@contextmanager
def stage_progress(total_hint: int | None = None, threshold: int = 5_000) -> Iterator:
    """A progress callback ``(stage, done, total)`` drawing a bar for big jobs."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    progress = Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
    tasks: dict[str, int] = {}
    shown = {"on": False}

    def callback(stage: str, done: int, total: int) -> None:
        if stage == "check" and total >= threshold and not shown["on"]:
            progress.start()
            shown["on"] = True
        if not shown["on"]:
            return
        if stage not in tasks:
            tasks[stage] = progress.add_task(STAGE_LABELS.get(stage, stage), total=total)
        progress.update(tasks[stage], completed=done, total=total)

    try:
        yield callback
    finally:
        if shown["on"]:
            progress.stop()
