"""Optional: QGIS itself (Debian's python3-qgis, offscreen) opens the exported GeoPackage with
its default style, the project file, and the OAPIF collection with the right feature count.

Install with ``scripts/bootstrap --qgis``; skipped when /usr/bin/python3 has no qgis module.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from app.qgis_export import export_all_layers
from layers.store import list_layers

SYSTEM_PYTHON = "/usr/bin/python3"
SMOKE = Path(__file__).with_name("qgis_smoke.py")


def _has_qgis() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import qgis.core"],
        capture_output=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    return probe.returncode == 0


pytestmark = [
    pytest.mark.qgis,
    pytest.mark.slow,
    pytest.mark.skipif(
        not _has_qgis(), reason="QGIS not installed (python3-qgis): run scripts/bootstrap --qgis"
    ),
]


def test_qgis_opens_gpkg_project_and_oapif(ogc_db, ogc_server, ogc_client, tmp_path):
    with ogc_db.engine.connect() as conn:
        export = export_all_layers(conn, tmp_path, area_title="Provincie Utrecht")
        layers = {
            i.name: i for i in list_layers(conn) if not i.name.startswith("run-")
        }  # runs: own projects
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path), XDG_RUNTIME_DIR=str(tmp_path))
    proc = subprocess.run(
        [
            SYSTEM_PYTHON,
            str(SMOKE),
            str(export.gpkg),
            str(export.project),
            f"{ogc_server.url}/ogc",
            "gemeenten",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    gpkg = result["gpkg"]
    assert set(gpkg) == set(layers)
    for name, info in gpkg.items():
        assert info["valid"] and info["count"] == layers[name].feature_count, name
    # Default styles from layer_styles: rule-based with the web map colours, Dutch aliases.
    assert gpkg["bedrijventerreinen"]["renderer"] == "RuleRenderer"
    assert gpkg["bedrijventerreinen"]["colours"][:2] == ["#c62828", "#ffb74d"]
    assert gpkg["reserveringen"]["colours"] == ["#1b5e20", "#66bb6a"]
    assert gpkg["bedrijventerreinen"]["alias_1"] == "Naam"
    project = result["project"]
    assert project["read"] and project["crs"] == "EPSG:28992"
    assert all(lyr["valid"] for lyr in project["layers"].values())
    assert any(lyr["provider"] == "wms" for lyr in project["layers"].values())
    assert result["oapif"]["valid"] and result["oapif"]["count"] == 26 == result["oapif"]["fetched"]
