"""``ruimte scenario …`` and ``ruimte indicators`` on the offline demo data."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys

import pytest
import rasterio

import scenarios
from tests.conftest import ROOT, _free_port


@pytest.fixture(scope="module")
def first_run(demo_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    proc = demo_db.cli(
        "scenario",
        "run",
        "--preset",
        "pbl-2023-bedrijventerreinen-40",
        "--output",
        out / "result.json",
        "--rasters",
        out / "rasters",
        "--csv",
        out / "table.csv",
    )
    return proc, out


def test_run_prints_a_table_and_writes_json_rasters_and_csv(first_run):
    proc, out = first_run
    assert (
        "Amersfoort" in proc.stdout
        and "GM0307" in proc.stdout
        and "Provincie Utrecht" in proc.stdout
    )
    assert "layers: run-" in proc.stdout and "timing:" in proc.stdout
    assert "synthetic" in proc.stderr
    result = json.loads((out / "result.json").read_text())
    assert len(result["per_gemeente"]) == 26 and result["basis"] == "bruto"
    for key in (
        "statcode",
        "naam",
        "current_ha",
        "demand_ha",
        "supply_ha",
        "balance_ha",
        "allocated_ha",
        "unmet_ha",
        "supply_uitgeefbaar_ha",
        "hmc_demand_ha",
        "hmc_current_ha",
        "basis",
    ):
        assert key in result["per_gemeente"][0] and key in result["totals"]
    tifs = sorted(p.name for p in (out / "rasters").iterdir())
    assert [t.split("-", 2)[2] for t in tifs] == [
        "allocation.tif",
        "constraints.tif",
        "suitability.tif",
    ]
    with rasterio.open(out / "rasters" / tifs[0]) as ds:
        assert ds.crs.to_epsg() == 28992 and ds.nodata == 255 and ds.overviews(1)
    rows = list(csv.DictReader(io.StringIO((out / "table.csv").read_text())))
    assert [r["niveau"] for r in rows].count("gemeente") == 26 and rows[-1]["niveau"] == "provincie"
    assert float(rows[-1]["demand_ha"]) == pytest.approx(result["totals"]["demand_ha"], abs=1e-3)


def test_list_show_and_compare(demo_db, first_run):
    second = demo_db.cli("scenario", "run", "--preset", "ruimte-voor-economie-industrie-15")
    assert "industrie" in second.stdout
    listed = json.loads(demo_db.cli("scenario", "list", "--json").stdout)
    assert [p["name"] for p in listed["presets"]][0] == "pbl-2023-bedrijventerreinen-40"
    runs = {r["spec_name"]: r["id"] for r in listed["runs"]}
    a, b = runs["pbl-2023-bedrijventerreinen-40"], runs["ruimte-voor-economie-industrie-15"]
    assert "runs (newest first)" in demo_db.cli("scenario", "list").stdout
    shown = json.loads(demo_db.cli("scenario", "show", str(a), "--json").stdout)
    assert shown["status"] == "done" and shown["result"]["totals"]["demand_ha"] > 0
    assert "Provincie Utrecht" in demo_db.cli("scenario", "show", str(a)).stdout
    diff = json.loads(demo_db.cli("scenario", "compare", str(a), str(b), "--json").stdout)
    t = diff["totals"]
    assert (
        t["demand_ha_diff"] == pytest.approx(t["demand_ha_b"] - t["demand_ha_a"])
        and t["demand_ha_diff"] < 0
    )
    assert len(diff["per_gemeente"]) == 26
    assert "Δ demand ha" in demo_db.cli("scenario", "compare", str(a), str(b)).stdout
    with demo_db.engine.connect() as conn:
        assert scenarios.compare_runs(conn, a, b) == diff


def test_invalid_spec_file_lists_every_problem_and_exits_1(demo_db, tmp_path):
    path = tmp_path / "fout.yaml"
    path.write_text(
        "base: pbl-2023-bedrijventerreinen-40\nname: fout\nhorizon_year: 2000\n"
        "allocation: {cell_size_m: 0}\nconstraints: {exclude: [{layer: nergens}]}\n"
    )
    with demo_db.engine.connect() as conn:
        before = len(scenarios.list_runs(conn))
    for command in (("scenario", "run", path), ("scenario", "validate", path)):
        proc = demo_db.cli(*command, check=False)
        assert proc.returncode == 1
        assert "3 problem(s); nothing was stored" in proc.stderr
        for line in (
            "horizon_year:",
            "allocation.cell_size_m:",
            "constraints.exclude[0].layer: unknown layer 'nergens'",
        ):
            assert line in proc.stderr
        assert "Traceback" not in proc.stderr
    proc = demo_db.cli("scenario", "run", "--preset", "bestaat-niet", check=False)
    assert proc.returncode == 1 and "unknown preset or saved spec 'bestaat-niet'" in proc.stderr
    assert demo_db.cli("scenario", "run", check=False).returncode == 1
    with demo_db.engine.connect() as conn:
        assert len(scenarios.list_runs(conn)) == before


def test_indicators(demo_db):
    data = json.loads(demo_db.cli("indicators", "--json").stdout)
    assert data["spec"] == "pbl-2023-bedrijventerreinen-40"
    assert 150 < data["landgebruik"]["total_duizend_ha"] < 160  # the province is about 155,000 ha
    klassen = {r["klasse"]: r["duizend_ha"] for r in data["landgebruik"]["per_klasse"]}
    assert klassen["bedrijventerrein"] == pytest.approx(4.4, abs=0.05)
    hb = data["hmc_benutting"]
    assert 0 < hb["pct"] < 100 and hb["hmc_terreinen"] > 0
    assert sum(data["ruimtevraag"]["status_counts"].values()) == 26
    text = demo_db.cli("indicators").stdout
    assert "Landgebruik in de provincie" in text and "HMC-benutting" in text and "groen" in text


def test_help_texts(demo_db):
    for command in (
        ("scenario", "--help"),
        ("scenario", "run", "--help"),
        ("indicators", "--help"),
    ):
        assert demo_db.cli(*command).returncode == 0
    assert "--preset" in demo_db.cli("scenario", "run", "--help").stdout


def test_a_run_on_a_cluster_started_by_ruimte_dask_local(demo_db):
    """``ruimte dask local`` starts a LocalCluster; ``--scheduler`` sends a run's rasters to it."""
    env = dict(os.environ, DATABASE_URL=demo_db.url, COLUMNS="200")
    port = _free_port()
    cluster = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "dask", "local", "--workers", "2", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        line = cluster.stdout.readline()
        assert f"tcp://127.0.0.1:{port}" in line, line + cluster.stderr.read(2000)
        address = f"tcp://127.0.0.1:{port}"
        preset = "ruimte-voor-economie-industrie-10"
        there = demo_db.cli("scenario", "run", "--preset", preset, "--scheduler", address)
        here = demo_db.cli("scenario", "run", "--preset", preset)
        runs = json.loads(demo_db.cli("scenario", "list", "--json").stdout)["runs"][:2]
        shown = [
            json.loads(demo_db.cli("scenario", "show", str(r["id"]), "--json").stdout) for r in runs
        ]
        for run in shown:
            run["result"].pop("run")
        assert shown[0]["result"] == shown[1]["result"]
        assert "Provincie Utrecht" in there.stdout and "Provincie Utrecht" in here.stdout
    finally:
        cluster.send_signal(signal.SIGINT)
        try:
            cluster.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            cluster.kill()
            cluster.communicate()


def test_a_scheduler_that_is_not_an_address_is_a_clear_error(demo_db):
    proc = demo_db.cli(
        "scenario",
        "run",
        "--preset",
        "ruimte-voor-economie-industrie-10",
        "--scheduler",
        "nergens",
        check=False,
    )
    assert (
        proc.returncode == 1 and "'nergens' is not an address like tcp://host:8786" in proc.stderr
    )
