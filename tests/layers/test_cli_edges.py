"""The ``ruimte`` command without rough edges (issue 13, item 6): one test per defect."""

from __future__ import annotations

import json

import click
import pytest
import typer
from typer.testing import CliRunner

from app.cli import cli

GEMEENTE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"statcode": "GM0344", "naam": "Utrecht"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [130_000, 450_000],
                        [140_000, 450_000],
                        [140_000, 460_000],
                        [130_000, 460_000],
                        [130_000, 450_000],
                    ]
                ],
            },
        }
    ],
}


@pytest.fixture
def with_gemeenten(ruimte, tmp_path):
    src = tmp_path / "gemeenten.geojson"
    src.write_text(json.dumps(GEMEENTE), encoding="utf-8")
    ruimte(
        "layers",
        "import",
        src,
        "--kind",
        "gemeenten",
        "--name",
        "gemeenten",
        "--crs",
        "28992",
        check=True,
    )
    return ruimte


def _no_traceback(proc) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout


def test_version(ruimte):
    proc = ruimte("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("ruimte-circulair ")


def test_export_with_an_unknown_crs_is_a_clear_error(with_gemeenten, tmp_path):
    proc = with_gemeenten(
        "layers",
        "export",
        "gemeenten",
        "--format",
        "gpkg",
        "--output",
        tmp_path / "g.gpkg",
        "--crs",
        "99999",
    )
    assert proc.returncode == 1 and "--crs '99999'" in proc.stderr
    _no_traceback(proc)
    assert not (tmp_path / "g.gpkg").exists()


def test_export_into_a_missing_directory_is_refused_not_created(with_gemeenten, tmp_path):
    target = tmp_path / "nonexistent-dir" / "x.gpkg"
    proc = with_gemeenten("layers", "export", "gemeenten", "-f", "gpkg", "-o", target)
    assert proc.returncode == 1 and "does not exist" in proc.stderr
    assert not target.parent.exists()
    _no_traceback(proc)
    ok = with_gemeenten("layers", "export", "gemeenten", "-f", "gpkg", "-o", tmp_path / "x.gpkg")
    assert ok.returncode == 0 and (tmp_path / "x.gpkg").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("layers", "show", "gemeentn"),
        ("layers", "export", "gemeente", "-f", "gpkg", "-o", "/tmp/unused-h13.gpkg"),
        ("layers", "delete", "gemeentenn", "--yes"),
    ],
)
def test_an_unknown_layer_name_gets_a_suggestion(with_gemeenten, args):
    proc = with_gemeenten(*args)
    assert proc.returncode == 1, proc.stdout
    assert "did you mean 'gemeenten'?" in proc.stderr
    _no_traceback(proc)


def test_a_far_off_layer_name_gets_no_suggestion(with_gemeenten):
    proc = with_gemeenten("layers", "show", "vestigingen")
    assert proc.returncode == 1 and "no layer named 'vestigingen'" in proc.stderr
    assert "did you mean" not in proc.stderr


def test_an_unknown_preset_fails_before_any_progress_and_suggests_one(ruimte):
    proc = ruimte("scenario", "run", "--preset", "pbl-2023-bedrijventerrein-40")
    assert proc.returncode == 1
    assert "did you mean 'pbl-2023-bedrijventerreinen-40'?" in proc.stderr + proc.stdout
    assert "scenario" not in proc.stderr.split("error")[0].lower()  # no progress line first
    assert "━" not in proc.stderr
    _no_traceback(proc)


def test_db_status_never_prints_the_password(monkeypatch, database_url):
    import app.cli.db as db_cli
    import app.database

    class Cluster:
        def status(self):
            return {
                "running": True,
                "url": "postgresql+psycopg://ruimte:SeCrEt99@127.0.0.1:54329/r",
            }

    monkeypatch.setattr(db_cli, "_cluster", lambda *_: Cluster())
    monkeypatch.setattr(app.database, "database_url", lambda: database_url)
    for args in (["db", "status"], ["db", "status", "--json"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert "SeCrEt99" not in result.output and "127.0.0.1:54329" in result.output
        assert "reachable" in result.output


def _commands(cmd, path):
    subs = getattr(cmd, "commands", None)
    if subs:
        for name, sub in subs.items():
            yield from _commands(sub, [*path, name])
    else:
        yield path, cmd


def test_every_option_states_its_default():
    """An option without a default value (None) says in its help what happens without it;
    Typer shows the others' defaults itself."""
    missing = []
    for path, cmd in _commands(typer.main.get_command(cli), ["ruimte"]):
        for p in cmd.params:
            if not isinstance(p, click.Option) or p.is_flag or p.required or p.name == "help":
                continue
            if p.default is None and "default" not in (p.help or "").lower():
                missing.append(f"{' '.join(path)} {p.opts[0]}")
            if "[" in (p.help or ""):  # rich markup would swallow it in --help
                missing.append(f"{' '.join(path)} {p.opts[0]}: '[' in help")
    assert not missing, missing


def test_serve_help_shows_the_defaults():
    result = CliRunner().invoke(cli, ["serve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for text in ("127.0.0.1", "8000", "RUIMTE_WEB_WORKERS"):
        assert text in result.output
