"""``RUIMTE_WORK_AREA``: a province by code or name, or NL; unknown values and the old
``RUIMTE_PROVINCE_*`` settings are refused with a message that names them."""

from __future__ import annotations

import pytest

from app import settings as app_settings
from app.settings import WorkAreaSettings, import_policy, work_area_named
from layers.boundaries import BoundaryError
from tests.helpers import table_counts


@pytest.fixture
def fresh(monkeypatch):
    """The cached work area cleared before and after (the environment is the test's)."""
    for key in ("RUIMTE_WORK_AREA", "RUIMTE_WORK_AREA_MARGIN_M"):
        monkeypatch.delenv(key, raising=False)
    app_settings.get_work_area.cache_clear()
    yield monkeypatch
    app_settings.get_work_area.cache_clear()


@pytest.mark.parametrize("value", ["PV25", "pv25", "25", "Gelderland", "gelderland"])
def test_a_province_by_code_or_name(fresh, value):
    fresh.setenv("RUIMTE_WORK_AREA", value)
    area = app_settings.get_work_area()
    assert area.province == ("PV25", "Provincie Gelderland")
    assert area.in_text == "de provincie Gelderland"
    assert len(area.area.gemeenten) == 51
    minx, miny, maxx, maxy = area.bbox
    assert area.work_area == (minx - 10_000, miny - 10_000, maxx + 10_000, maxy + 10_000)


def test_the_default_is_utrecht_with_its_old_box(fresh):
    area = app_settings.get_work_area()
    assert area.province == ("PV26", "Provincie Utrecht")
    assert area.bbox == (114244.0, 430005.0, 171506.0, 479450.0)
    assert import_policy(area).work_area_name == "the work area Provincie Utrecht (+10 km)"


def test_the_whole_country(fresh):
    fresh.setenv("RUIMTE_WORK_AREA", "NL")
    fresh.setenv("RUIMTE_WORK_AREA_MARGIN_M", "0")
    area = app_settings.get_work_area()
    assert area.province == ("NL", "Nederland") and area.title == "Nederland"
    assert len(area.area.gemeenten) == 342
    assert area.work_area == area.bbox
    assert work_area_named("Nederland").statcode == "NL"


@pytest.mark.parametrize(
    ("value", "hint"),
    [("Gelderlnd", "'Gelderland'"), ("PV32", "'PV31'"), ("Nederlnd", "'NL'"), ("Gelre", None)],
)
def test_an_unknown_work_area_names_it_and_the_nearest(fresh, value, hint):
    fresh.setenv("RUIMTE_WORK_AREA", value)
    with pytest.raises(BoundaryError) as exc:
        app_settings.get_work_area()
    assert f"{value!r} is not a work area" in exc.value.message
    assert (
        "PV25 Gelderland" in exc.value.message and "NL for the whole country" in exc.value.message
    )
    if hint:
        assert f"did you mean {hint}?" in exc.value.message
    else:
        assert "did you mean" not in exc.value.message


def test_the_old_province_settings_are_refused_naming_the_new_one(fresh):
    fresh.setenv("RUIMTE_PROVINCE_BBOX", "[0, 0, 1, 1]")
    with pytest.raises(
        BoundaryError, match="RUIMTE_PROVINCE_BBOX is no longer read: set RUIMTE_WORK_AREA"
    ):
        app_settings.get_work_area()


def test_the_old_province_settings_in_an_env_file_are_refused(fresh, tmp_path):
    env = tmp_path / ".env"
    env.write_text("RUIMTE_PROVINCE_NAME=Utrecht\n", encoding="utf-8")
    with pytest.raises(ValueError, match="RUIMTE_PROVINCE_NAME is no longer read"):
        WorkAreaSettings(_env_file=env)


def test_cli_demo_data_refuses_an_unknown_work_area_and_stores_nothing(ruimte, db):
    before = table_counts(db)
    proc = ruimte("demo-data", "--work-area", "Gelderlnd")
    assert proc.returncode == 1
    assert "'Gelderlnd' is not a work area (did you mean 'Gelderland'?)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert table_counts(db) == before
