"""Styles from one definition: the GeoPackage's layer_styles (QML, SLD), the style downloads,
the QGIS project exports (CLI and download) and the definitions the web maps read."""

from __future__ import annotations

import io
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile

import pyogrio
import pytest

from layers.exporter import export_layer
from layers.qgis_project import ProjectLayer, export_qgis_project
from layers.store import read_features
from layers.styles import load_styles, rgb
from tests.conftest import ROOT

SLD = "{http://www.opengis.net/sld}"


def styles_of(gpkg) -> list[tuple]:
    """The rows of the GeoPackage's layer_styles table, as GDAL reads them."""
    table = pyogrio.read_dataframe(gpkg, layer="layer_styles", read_geometry=False)
    columns = [
        "f_table_name",
        "f_geometry_column",
        "styleName",
        "styleQML",
        "styleSLD",
        "useAsDefault",
    ]
    return [tuple(row) for row in table[columns].itertuples(index=False)]


def test_exported_geopackage_carries_the_web_style(ogc_db, tmp_path):
    with ogc_db.engine.connect() as conn:
        out = export_layer(conn, "bedrijventerreinen", "gpkg", tmp_path / "b.gpkg").path
    [(table, column, name, qml, sld, default)] = styles_of(out)
    assert (table, column, default) == ("bedrijventerreinen", "geom", 1)
    root = ET.fromstring(qml.split("\n", 1)[1])
    assert root.find("renderer-v2").get("type") == "RuleRenderer"
    rules = root.findall("renderer-v2/rules/rule")
    assert (
        rules[0].get("filter") == 'to_real("max_milieucategorie") >= 4'
        and rules[1].get("filter") == "ELSE"
    )
    hmc_fill = load_styles()["bedrijventerreinen"]["classify"]["classes"][0]["fill"]
    colour = root.find(
        "renderer-v2/symbols/symbol[@name='0']/layer[@class='SimpleFill']/prop[@k='color']"
    ).get("v")
    assert colour.startswith(",".join(map(str, rgb(hmc_fill))))
    assert {a.get("field"): a.get("name") for a in root.findall("aliases/alias")}[
        "bruto_ha"
    ] == "Bruto oppervlakte (ha)"
    sld_root = ET.fromstring(sld.split("\n", 1)[1])
    assert sld_root.get("version") == "1.0.0"
    assert [r.findtext(f"{SLD}Name") for r in sld_root.iter(f"{SLD}Rule")] == [
        r.get("label") for r in rules
    ]
    # GDAL reads the GeoPackage with the extra table without complaint.
    info = subprocess.run(["ogrinfo", "-ro", "-q", str(out)], capture_output=True, text=True)
    assert info.returncode == 0 and "layer_styles" in info.stdout and info.stderr == ""


def test_style_downloads(ogc_client):
    qml = ogc_client.get("/api/styles/reserveringen.qml")
    assert (
        qml.status_code == 200
        and "<renderer-v2" in qml.text
        and "Hard (vastgesteld plan)" in qml.text
    )
    sld = ogc_client.get("/api/styles/reserveringen.sld")
    assert sld.status_code == 200 and "PropertyIsEqualTo" in sld.text
    assert ogc_client.get("/api/styles").json()["reserveringen"]["classify"]["field"] == "status"
    assert ogc_client.get("/api/styles/nope.qml").status_code == 404


def test_qgis_project_export(ogc_db, tmp_path):
    with ogc_db.engine.connect() as conn:
        export = export_qgis_project(
            conn,
            [
                ProjectLayer("gemeenten"),
                ProjectLayer("hoofdstructuur"),
                ProjectLayer("bedrijventerreinen"),
            ],
            tmp_path,
            "p",
            "Test",
        )
    with zipfile.ZipFile(export.project) as zf:
        qgs = zf.read("p.qgs").decode()
    root = ET.fromstring(qgs.split("\n", 1)[1])
    assert root.findtext("projectCrs/spatialrefsys/authid") == "EPSG:28992"
    sources = [m.findtext("datasource") for m in root.iter("maplayer")]
    assert "./p.gpkg|layername=bedrijventerreinen" in sources
    assert any(s.endswith("layername=hoofdstructuur|geometrytype=Point") for s in sources)
    assert any("type=xyz" in s and "service.pdok.nl" in s for s in sources)
    # Drawing order: the basemap at the bottom, gemeenten below bedrijventerreinen.
    order = [e.get("id") for e in root.find("layerorder")]
    assert order[-1] == "pdok_brt_achtergrondkaart"
    assert order.index(next(i for i in order if i.startswith("bedrijventerreinen"))) < order.index(
        next(i for i in order if i.startswith("gemeenten"))
    )
    names = {row[0] for row in styles_of(export.gpkg) if row[5]}
    assert names == {"gemeenten", "hoofdstructuur", "bedrijventerreinen"}


def test_cli_export_qgis_and_download(ogc_db, ogc_client, tmp_path):
    env = {"DATABASE_URL": ogc_db.url, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "layers", "export-qgis", "--output", str(tmp_path / "q")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "q" / "ruimte-circulair.gpkg").exists() and (
        tmp_path / "q" / "ruimte-circulair.qgz"
    ).exists()
    resp = ogc_client.get("/api/qgis/project.zip")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(resp.content)).namelist()
    assert sorted(names) == ["ruimte-circulair.gpkg", "ruimte-circulair.qgz"]
    assert ogc_client.get("/api/runs/999999/qgis.zip").status_code == 404
    bad = subprocess.run(
        [sys.executable, "-m", "app.cli", "scenario", "export-qgis", "999999", "-o", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert bad.returncode == 1 and "999999" in bad.stderr


@pytest.fixture(scope="session")
def run_id(ogc_db) -> int:
    """One scenario run (the +40% preset) on the OGC test database."""
    import scenarios
    from tests.helpers import run_context

    return scenarios.run_scenario(ogc_db.engine, "pbl-2023-bedrijventerreinen-40", run_context()).id


def test_scenario_run_qgis_export(ogc_client, run_id):
    resp = ogc_client.get(f"/api/runs/{run_id}/qgis.zip")
    assert resp.status_code == 200
    zf = zipfile.ZipFile(io.BytesIO(resp.content))
    assert sorted(zf.namelist()) == [f"run-{run_id}.gpkg", f"run-{run_id}.qgz"]
    qgs = (
        zipfile.ZipFile(io.BytesIO(zf.read(f"run-{run_id}.qgz"))).read(f"run-{run_id}.qgs").decode()
    )
    for role in ("allocatie", "milieuzones", "conflicten"):
        assert f"layername=run-{run_id}-{role}" in qgs


def test_mixed_geometry_layer_is_a_styled_table_per_geometry_type(ogc_db, tmp_path):
    """The download of a mixed layer holds one table per geometry type, each typed and with its
    default style (QGIS opens each styled), named like the OGC API's collections."""
    with ogc_db.engine.connect() as conn:
        ff = read_features(conn, "hoofdstructuur")
        out = export_layer(conn, "hoofdstructuur", "gpkg", tmp_path / "h.gpkg").path
    tables = {name: gtype for name, gtype in pyogrio.list_layers(out) if name != "layer_styles"}
    assert tables.keys() == {
        "hoofdstructuur-knooppunten",
        "hoofdstructuur-verbindingen",
        "hoofdstructuur-deelgebieden",
    }
    assert {t.replace("Multi", "") for t in tables.values()} == {"Point", "LineString", "Polygon"}
    rows = styles_of(out)
    assert sorted(r[0] for r in rows if r[5]) == sorted(tables)  # one default style per table
    symbol = {"knooppunten": "0", "verbindingen": "1", "deelgebieden": "2"}
    for table, _column, _name, qml, _sld, default in rows:
        root = ET.fromstring(qml.split("\n", 1)[1])
        assert root.findtext("layerGeometryType") == symbol[table.rsplit("-", 1)[1]] and default
    assert sum(len(pyogrio.read_dataframe(out, layer=t)) for t in tables) == len(ff.fids)
    info = subprocess.run(["ogrinfo", "-ro", "-q", str(out)], capture_output=True, text=True)
    assert info.returncode == 0 and info.stderr == ""
