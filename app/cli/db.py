"""``ruimte db``: the local PostGIS cluster and migrations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import out
from app.localdb import LocalCluster
from app.settings import get_database_settings, get_local_database_settings

app = typer.Typer(help="Start, stop and migrate the PostGIS database.", no_args_is_help=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        help="Data directory of the local cluster (default: RUIMTE_LOCALDB_DATA_DIR, else "
        "/var/lib/ruimte-circulair/pgdata as root, ~/.local/share/ruimte-circulair/pgdata otherwise)."
    ),
]
Port = Annotated[
    int | None,
    typer.Option(help="Port of the local cluster (default: RUIMTE_LOCALDB_PORT, else 54329)."),
]


def _cluster(data_dir: Path | None, port: int | None) -> LocalCluster:
    settings = get_local_database_settings()
    updates = {k: v for k, v in (("data_dir", data_dir), ("port", port)) if v is not None}
    return LocalCluster(settings.model_copy(update=updates))


@app.command()
def up(
    data_dir: DataDir = None,
    port: Port = None,
    no_migrate: bool = typer.Option(False, help="Do not migrate."),
) -> None:
    """Create (first time) and start the project's local PostGIS cluster, migrate it, print its URL.

    Runs initdb and pg_ctl as the 'postgres' user when invoked as root. Without
    DATABASE_URL, every other command uses this cluster.
    """
    if get_database_settings().database_url:
        out.print(
            "[yellow]note:[/] DATABASE_URL is set, so other commands use that database, not this cluster"
        )
    from app.database import migrate

    cluster = _cluster(data_dir, port)
    url = cluster.up()
    if not no_migrate:
        migrate(url)
    out.print(f"local PostGIS running in {cluster.data_dir}")
    out.print(url, highlight=False, soft_wrap=True)


@app.command()
def down(data_dir: DataDir = None, port: Port = None) -> None:
    """Stop the local PostGIS cluster (its data stays)."""
    cluster = _cluster(data_dir, port)
    cluster.stop()
    out.print(f"local PostGIS in {cluster.data_dir} stopped")


@app.command()
def status(
    data_dir: DataDir = None,
    port: Port = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show which database is used, whether the local cluster runs, and the migration state."""
    from sqlalchemy.engine import make_url

    from app.database import current_revision, database_url, get_engine, head_revision

    info: dict[str, object] = {"database_url_set": bool(get_database_settings().database_url)}
    local = _cluster(data_dir, port).status()
    if "url" in local:  # never the password (`ruimte db url` prints it, for export)
        local["url"] = make_url(str(local["url"])).render_as_string(hide_password=True)
    info["local_cluster"] = local
    try:
        engine = get_engine(database_url())
        info["migration"] = current_revision(engine)
        info["migration_head"] = head_revision()
        info["reachable"] = True
    except Exception as exc:  # noqa: BLE001 - status reports whatever is wrong
        info["reachable"] = False
        info["error"] = str(exc).splitlines()[0]
    if as_json:
        out.print_json(json.dumps(info, default=str))
        return
    for key, value in info.items():
        out.print(f"{key:18} {value}", highlight=False)


@app.command("migrate")
def migrate_cmd(revision: str = typer.Option("head", help="Target revision.")) -> None:
    """Upgrade the database (DATABASE_URL or the local cluster) to the newest migration."""
    from app.database import current_revision, database_url, get_engine, migrate

    url = database_url()
    migrate(url, revision)
    out.print(f"database at migration {current_revision(get_engine(url))}")


@app.command()
def url() -> None:
    """Print the SQLAlchemy URL in use (handy for `export DATABASE_URL=$(ruimte db url)`)."""
    from app.database import database_url

    print(database_url())
