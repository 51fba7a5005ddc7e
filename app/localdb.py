"""A PostGIS cluster owned by the project, for development, the demo and tests.

``ruimte db up`` creates it on first use (``initdb``), starts it (``pg_ctl``), creates
a login role and a database with PostGIS, and prints the URL. When we run as root,
``initdb`` and ``pg_ctl`` refuse to run, so they are run as the ``postgres`` user and
the data directory is handed to that user.

The server listens on 127.0.0.1 only; its Unix socket lives inside the data directory
(mode 0700), where ``trust`` applies; TCP connections need the generated password,
kept in a file beside the data directory (mode 0600).
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from app.settings import LocalDatabaseSettings

SUPERUSER = "postgres"


class LocalDatabaseError(RuntimeError):
    """The local cluster cannot be created, started or reached."""


def find_pg_bin(explicit: Path | None = None) -> Path:
    """Directory with ``initdb`` and ``pg_ctl``: the setting, PATH, or /usr/lib/postgresql/N/bin."""
    if explicit:
        if not (explicit / "initdb").exists():
            raise LocalDatabaseError(f"no initdb in {explicit}")
        return explicit
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    raise LocalDatabaseError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found. On Debian/Ubuntu run "
        "`scripts/bootstrap`; elsewhere install PostgreSQL 15+ with PostGIS 3, or set "
        "DATABASE_URL to an existing PostGIS database."
    )


@dataclass
class LocalCluster:
    """One local cluster, described by :class:`LocalDatabaseSettings`."""

    settings: LocalDatabaseSettings
    fast: bool = False
    """Throwaway mode (tests): fsync and synchronous commit off."""

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory."""
        return self.settings.data_dir.resolve()

    @property
    def credentials_file(self) -> Path:
        """File with the generated password, beside the data directory."""
        return self.data_dir.parent / f"{self.data_dir.name}.credentials.json"

    @property
    def log_file(self) -> Path:
        """The server log."""
        return self.data_dir / "server.log"

    @property
    def initialized(self) -> bool:
        """Whether ``initdb`` has run on the data directory."""
        return (self.data_dir / "PG_VERSION").exists()

    # -- process helpers -------------------------------------------------------------

    def _as_owner(self, args: list[str]) -> list[str]:
        """Run as ``postgres`` when we are root (initdb and pg_ctl refuse root)."""
        if os.geteuid() == 0:
            return ["runuser", "-u", SUPERUSER, "--", *args]
        return args

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(self._as_owner(args), capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise LocalDatabaseError(
                f"{Path(args[0]).name} failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}"
            )
        return proc

    def _bin(self, name: str) -> str:
        return str(find_pg_bin(self.settings.bin_dir) / name)

    # -- lifecycle -------------------------------------------------------------------

    def init(self) -> None:
        """Create the data directory and run ``initdb`` (idempotent)."""
        if self.initialized:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            try:
                pg = pwd.getpwnam(SUPERUSER)
            except KeyError as exc:
                raise LocalDatabaseError(
                    "running as root needs a 'postgres' system user to own the cluster; "
                    "install the PostgreSQL server package (scripts/bootstrap)"
                ) from exc
            os.chown(self.data_dir, pg.pw_uid, pg.pw_gid)
            _ensure_traversable(self.data_dir.parent)
        self.data_dir.chmod(0o700)
        password = secrets.token_urlsafe(18)
        self._run(
            [
                self._bin("initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-instructions",
            ]
        )
        conf = [
            f"listen_addresses = '{self.settings.host}'",
            f"port = {self.settings.port}",
            f"unix_socket_directories = '{self.data_dir}'",
            "shared_buffers = '256MB'",
            "work_mem = '32MB'",
            "maintenance_work_mem = '256MB'",
            "max_connections = 100",
        ]
        if self.fast:
            conf += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        self._append_conf(conf)
        self.credentials_file.write_text(
            json.dumps({"user": self.settings.user, "password": password})
        )
        self.credentials_file.chmod(0o600)

    def _append_conf(self, lines: list[str]) -> None:
        conf_file = self.data_dir / "postgresql.conf"
        text = "\n# ruimte-circulair\n" + "\n".join(lines) + "\n"
        # root may write the file directly; a non-root owner too.
        with conf_file.open("a") as fh:
            fh.write(text)

    def running(self) -> bool:
        """Whether the server of this data directory is running."""
        if not self.initialized:
            return False
        proc = self._run([self._bin("pg_ctl"), "-D", str(self.data_dir), "status"], check=False)
        return proc.returncode == 0

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        if self.running():
            return
        self._run(
            [
                self._bin("pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )

    def stop(self) -> None:
        """Stop the server (fast shutdown)."""
        if self.running():
            self._run([self._bin("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])

    def destroy(self) -> None:
        """Stop the server and remove the data directory and credentials."""
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.credentials_file.unlink(missing_ok=True)

    def up(self) -> str:
        """Create if needed, start, make sure role, database and PostGIS exist; return the URL."""
        self.init()
        self.start()
        self._bootstrap_database()
        return self.url()

    # -- database bootstrap ----------------------------------------------------------

    def _superuser_connect(self, dbname: str = "postgres"):  # noqa: ANN202 - psycopg connection
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                return psycopg.connect(
                    host=str(self.data_dir),
                    port=self.settings.port,
                    user=SUPERUSER,
                    dbname=dbname,
                    autocommit=True,
                )
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)

    def _bootstrap_database(self) -> None:
        from psycopg import sql

        creds = self._credentials()
        user, password, db = creds["user"], creds["password"], self.settings.database
        with self._superuser_connect() as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [user]).fetchone()
            verb = "ALTER" if exists else "CREATE"
            # A project-owned development cluster: the role may create test databases
            # and extensions (PostGIS is not a trusted extension).
            conn.execute(
                sql.SQL("{} ROLE {} LOGIN SUPERUSER PASSWORD {}").format(
                    sql.SQL(verb), sql.Identifier(user), sql.Literal(password)
                )
            )
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone():
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(db), sql.Identifier(user)
                    )
                )
        with self._superuser_connect(db) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    def _credentials(self) -> dict[str, str]:
        try:
            return json.loads(self.credentials_file.read_text())
        except FileNotFoundError as exc:
            raise LocalDatabaseError(
                f"credentials file {self.credentials_file} is missing; remove {self.data_dir} "
                "and run `ruimte db up` again"
            ) from exc

    def url(self, database: str | None = None) -> str:
        """SQLAlchemy URL of the (running) local cluster."""
        from sqlalchemy.engine import URL

        creds = self._credentials()
        return URL.create(
            "postgresql+psycopg",
            username=creds["user"],
            password=creds["password"],
            host=self.settings.host,
            port=self.settings.port,
            database=database or self.settings.database,
        ).render_as_string(hide_password=False)

    def status(self) -> dict[str, object]:
        """A summary for ``ruimte db status``."""
        running = self.running()
        info: dict[str, object] = {
            "data_dir": str(self.data_dir),
            "initialized": self.initialized,
            "running": running,
            "port": self.settings.port,
        }
        if running and self.credentials_file.exists():
            info["url"] = self.url()
        return info


def _ensure_traversable(directory: Path) -> None:
    """Refuse a data directory that the postgres user cannot reach (e.g. under /root)."""
    for parent in [directory, *directory.parents]:
        if not parent.stat().st_mode & 0o001:
            raise LocalDatabaseError(
                f"the postgres user cannot reach {directory}: {parent} is not traversable by "
                "others. Choose a data directory elsewhere (RUIMTE_LOCALDB_DATA_DIR), e.g. under "
                "/var/lib or a directory made with `mktemp -d` and `chmod 755`."
            )
