"""Imports through the CLI and the importer: names reserved for scenario runs, Z values noted."""

from __future__ import annotations

import json

import pytest

from layers.errors import LayerError
from layers.importer import ImportPolicy, ImportRequest, import_file
from tests.helpers import RESERVERING_FEATURE

FEATURE = RESERVERING_FEATURE


def test_run_names_are_reserved_for_scenario_runs(db, ruimte, tmp_path):
    path = tmp_path / "r.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [FEATURE]}))
    proc = ruimte("layers", "import", path, "--kind", "reserveringen", "--name", "run-1-allocatie")
    assert proc.returncode == 1
    assert "reserved" in proc.stderr and "scenario runs" in proc.stderr
    assert "Traceback" not in proc.stderr
    with pytest.raises(LayerError, match="is reserved"):
        import_file(
            db,
            ImportRequest(path=path, kind="reserveringen", name="run-7-milieuzones"),
            ImportPolicy(),
        )
    assert "run-1-allocatie" not in ruimte("layers", "list", "--json", check=True).stdout


def test_import_output_notes_dropped_z_values(db, ruimte, tmp_path):
    feature = {**FEATURE, "geometry": {"type": "Point", "coordinates": [5.1, 52.1, 7.0]}}
    feature["properties"] = {"naam": "Hoog", "sbi_code": "2511", "milieucategorie": "3.1"}
    path = tmp_path / "z.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    proc = ruimte("layers", "import", path, "--kind", "vestigingen", "--name", "hoog", check=True)
    assert "dropped Z values from 1 feature(s): storage is 2D" in proc.stderr + proc.stdout
