"""Another province as the work area, end to end: Gelderland's demo data, a scenario run on a
coarse grid, the maps in Chromium, the OGC API and the QGIS project, all named after it.

The database is one of its own (the demo of another province must not meet the Utrecht demo
the other app tests share). The run reads the work area from ``RUIMTE_WORK_AREA``, set here
for the module, as the app passes it from the settings.
"""

from __future__ import annotations

import io
import os
import zipfile

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from app import settings as app_settings
from app.database import migrate
from app.main import create_app
from app.settings import AuthSettings, PlanningSettings, WorkAreaSettings, import_policy
from layers import boundaries
from layers.demo import DemoOptions, load_demo_data
from scenarios.presets import preset_data
from tests.app.conftest import TOKEN, LiveServer, seed_users, web_settings
from tests.app.test_maps_browser import open_map
from tests.conftest import create_database, drop_database

AUTH = {"Authorization": f"Bearer {TOKEN}"}
SPEC = "gelderland-grof"
#: A coarse grid, so that the run over 5,117 km² takes seconds.
CELL_M = 500
#: The outline feature of a map page, and the lon/lat bounds of its layer, from the Leaflet map.
OUTLINE_JS = """() => {
  let map = null;
  for (const k in window) { if (window[k] instanceof L.Map) { map = window[k]; break; } }
  const found = [];
  map.eachLayer(l => {
    if (l.feature && l.feature.properties && String(l.feature.properties.naam).startsWith("Provincie")) {
      const b = l.getBounds();
      found.push({naam: l.feature.properties.naam,
                  bounds: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]});
    }
  });
  return found;
}"""


@pytest.fixture(scope="module")
def gelderland(pg_server):
    """A database holding Gelderland's demo data and a run of the +40% preset at 500 m."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RUIMTE_WORK_AREA", "Gelderland")
        app_settings.get_work_area.cache_clear()
        area = WorkAreaSettings(_env_file=None).resolve()
        name = f"ruimte_test_gelderland_{os.getpid()}"
        url = create_database(pg_server, name)
        migrate(url)
        eng = create_engine(url)
        summary = load_demo_data(eng, DemoOptions(province=area.statcode), import_policy(area))
        seed_users(eng)
        app = create_app(
            eng,
            web=web_settings(embed_max_features=500),
            auth=AuthSettings(_env_file=None),
            planning=PlanningSettings(_env_file=None),
            work_area=area,
        )
        with TestClient(app) as client:
            spec = preset_data("pbl-2023-bedrijventerreinen-40")
            spec["name"] = SPEC
            spec["allocation"]["cell_size_m"] = CELL_M
            resp = client.post("/api/scenarios", json=spec, headers=AUTH)
            assert resp.status_code in (200, 201), resp.text
            resp = client.post(f"/api/scenarios/{SPEC}/runs", headers=AUTH)
            assert resp.status_code == 201, resp.text
            yield area, app, client, resp.json()["id"], summary
        eng.dispose()
        drop_database(pg_server, name)
    app_settings.get_work_area.cache_clear()


def test_the_work_area_is_gelderland_with_its_51_gemeenten(gelderland):
    area, _, _, _, summary = gelderland
    assert (area.statcode, area.title) == ("PV25", "Provincie Gelderland")
    assert any(line.startswith("gemeenten: 51 features") for line in summary)
    assert any("of provincie Gelderland (PV25" in line for line in summary)


def test_the_run_totals_name_gelderland(gelderland):
    _, _, client, run_id, _ = gelderland
    result = client.get(f"/api/runs/{run_id}").json()["result"]
    assert len(result["per_gemeente"]) == 51
    assert result["totals"]["statcode"] == "PV25"
    assert result["totals"]["naam"] == "Provincie Gelderland"
    assert result["totals"]["allocated_ha"] > 0
    assert "Provincie Gelderland" in client.get(f"/api/runs/{run_id}/table.csv").text


def test_pages_and_ogc_metadata_name_gelderland(gelderland):
    _, _, client, _, _ = gelderland
    index = client.get("/").text
    assert "de provincie Gelderland" in index and "Provincie Gelderland" in index
    assert "Utrecht" not in index
    landing = client.get("/ogc", params={"f": "json"}).json()
    assert "in de provincie Gelderland" in landing["description"]
    api = client.get("/ogc/api", params={"f": "json"}).json()
    assert "in de provincie Gelderland" in api["info"]["description"]
    assert "Provincie Gelderland" in client.get("/openapi.json").json()["info"]["summary"]


def test_qgis_projects_are_titled_gelderland(gelderland):
    _, _, client, run_id, _ = gelderland
    for url, title in (
        ("/api/qgis/project.zip", "Ruimte Circulair – kaartlagen Provincie Gelderland"),
        (f"/api/runs/{run_id}/qgis.zip", "Ruimte Circulair – Provincie Gelderland: scenario"),
    ):
        resp = client.get(url)
        assert resp.status_code == 200, resp.text
        with zipfile.ZipFile(io.BytesIO(resp.content)) as outer:
            qgz = next(n for n in outer.namelist() if n.endswith(".qgz"))
            with zipfile.ZipFile(io.BytesIO(outer.read(qgz))) as inner:
                qgs = inner.read(next(n for n in inner.namelist() if n.endswith(".qgs")))
        assert title in qgs.decode("utf-8")
        assert "Utrecht" not in qgs.decode("utf-8")


@pytest.mark.slow
def test_maps_in_chromium_show_the_gelderland_outline(gelderland, page):
    _, app, _, run_id, _ = gelderland
    expected = boundaries.work_area("PV25").gemeenten.to_crs(4326).total_bounds
    with LiveServer(app) as server:
        for path in ("/kaart", f"/kaart/scenario/{run_id}"):
            pg = open_map(page, f"{server.url}{path}")
            outlines = pg.evaluate(OUTLINE_JS)
            assert [o["naam"] for o in outlines] == ["Provincie Gelderland"], path
            assert outlines[0]["bounds"] == pytest.approx(list(expected), abs=0.01), path
            if path == "/kaart":
                assert "Provincie Gelderland" in pg.locator(".rc-title").inner_text()
            assert page.errors == [] and page.outside == [], path
