"""Imports check milieucategorieën against the table runs use (the planning setting)."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
import shapely

from app import settings
from layers.errors import InvalidFeatures
from layers.importer import PrepareOptions, frame_source, prepare
from layers.kinds import load_kinds
from layers.milieucategorie import DEFAULT_TABLE
from spatial.crs import RD_NEW


def _terrein(category: str) -> tuple[pd.DataFrame, np.ndarray]:
    frame = pd.DataFrame(
        {
            "naam": ["Proefterrein"],
            "gemeente": ["GM0344"],
            "bruto_ha": [1.0],
            "netto_ha": [0.8],
            "uitgegeven_ha": [0.5],
            "uitgeefbaar_ha": [0.3],
            "max_milieucategorie": [category],
        }
    )
    return frame, np.array([shapely.box(136_000, 455_000, 136_100, 455_100)], dtype=object)


@pytest.fixture
def planning_table(monkeypatch, tmp_path):
    """Set RUIMTE_PLANNING_MILIEUCATEGORIE_TABLE to a table with an extra category 7."""
    path = tmp_path / "met-7.csv"
    with open(DEFAULT_TABLE, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows.append(dict(rows[-1], milieucategorie="7", hoofdcategorie="7", toelichting="proef"))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    def use(value: str | None) -> None:
        if value is None:
            monkeypatch.delenv("RUIMTE_PLANNING_MILIEUCATEGORIE_TABLE", raising=False)
        else:
            monkeypatch.setenv("RUIMTE_PLANNING_MILIEUCATEGORIE_TABLE", value)
        settings.get_planning_settings.cache_clear()

    yield path, use
    settings.get_planning_settings.cache_clear()


def _prepare(category: str):
    frame, geoms = _terrein(category)
    return prepare(
        frame_source(frame, geoms, RD_NEW, "test"),
        load_kinds()["bedrijventerreinen"],
        PrepareOptions(),
        settings.import_policy(),
    )


def test_an_import_knows_the_categories_of_the_configured_table(planning_table):
    path, use = planning_table
    use(None)
    with pytest.raises(InvalidFeatures) as err:
        _prepare("7")
    assert "max_milieucategorie" in err.value.message + " ".join(err.value.lines)
    use(str(path))
    prepared = _prepare("7")
    assert prepared.features.attributes["max_milieucategorie"].tolist() == ["7"]
