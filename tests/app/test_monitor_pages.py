"""The monitor pages, map, reports and spreadsheets on the demo data with a history, in
headless Chromium: no console errors, nothing requested outside the host; the PDF opens in
poppler and holds the charts and the map image; the xlsx has numeric cells."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx2 as httpx
import pytest
from sqlalchemy import text

from app.runs import run_context
from layers.access import EVERYTHING
from layers.edit import create_feature
from layers.store import read_features
from scenarios.monitor import create_edition, load_config
from tests.app.conftest import auth

NL = ZoneInfo("Europe/Amsterdam")
SHOTS = os.environ.get("RUIMTE_TEST_SCREENSHOTS")
HOSTILE = 'Eerste <img src=x onerror="alert(1)"> {{ 7*7 }}'
PAGES = (
    "/monitor",
    "/monitor/2",
    "/monitor/2/gemeente/GM0344",
    "/kaart/monitor/2",
    "/kaart/monitor/2?gemeente=GM0344",
    "/monitor/2/rapport",
    "/monitor/2/gemeente/GM0344/rapport",
    "/scenario/1/rapport",
)


@pytest.fixture(scope="module")
def editions(demo_engine):
    """The demo as it stood on 1 June 2025, a hard reservering adopted in Utrecht on 1 June
    2026, a gemeente's concept since (never shown), and two editions."""
    with demo_engine.begin() as conn:
        conn.execute(
            text("UPDATE layer_versions SET created_at = :t"),
            {"t": datetime(2025, 6, 1, tzinfo=NL)},
        )
        gem = read_features(conn, "gemeenten", None, EVERYTHING)
        utrecht = gem.geometries[list(gem.properties["statcode"]).index("GM0344")]
        spot = utrecht.representative_point().buffer(150).intersection(utrecht)
        attrs = {"naam": "Nieuwe reservering", "gemeente": "GM0344", "doel": "bouwhub"}
        create_feature(conn, "reserveringen", spot, attrs | {"status": "hard"}, "GM0344")
    _stamp(demo_engine, datetime(2026, 6, 1, tzinfo=NL))
    with demo_engine.begin() as conn:
        concept = spot.buffer(-50)
        attrs = {"naam": "GEHEIM concept", "gemeente": "GM0344", "doel": "x", "status": "hard"}
        create_feature(conn, "reserveringen", concept, attrs, "GM0344", draft=True)
    _stamp(demo_engine, datetime(2026, 7, 1, tzinfo=NL))
    config, raw = load_config()
    today = date(2026, 12, 2)
    with demo_engine.begin() as conn:
        first = create_edition(conn, config, raw, [date(2026, 1, 1)], today=today, title=HOSTILE)
        days = [date(2025, 1, 1), date(2026, 1, 1), date(2026, 7, 1), date(2026, 12, 1)]
        second = create_edition(conn, config, raw, days, today=today, title="Ruimtemonitor 2026")
    assert (first, second) == (1, 2)
    import scenarios

    scenarios.run_scenario(demo_engine, "pbl-2023-bedrijventerreinen-40", run_context())
    return demo_engine


def _stamp(engine, when: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE layer_versions lv SET created_at = :t FROM layers l "
                "WHERE l.id = lv.layer_id AND l.name = 'reserveringen' "
                "AND lv.version = l.current_version"
            ),
            {"t": when},
        )


@pytest.fixture(scope="module")
def served(editions, live_server):
    return live_server


@pytest.mark.parametrize("path", PAGES)
def test_monitor_pages_render_in_chromium(served, page, path):
    response = page.page.goto(served.url + path, wait_until="networkidle")
    assert response.status == 200, path
    if path.startswith("/kaart"):
        page.page.wait_for_selector(".leaflet-overlay-pane path", timeout=15_000)
    assert page.errors == [], page.errors
    assert page.outside == [], page.outside
    body = page.page.content()
    assert "GEHEIM" not in body
    assert "synthetische demodata" in body.lower() or path.startswith("/kaart")
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        name = path.strip("/").replace("/", "_").replace("?", "_").replace("=", "-") + ".png"
        page.page.screenshot(path=str(Path(SHOTS) / name), full_page=True)


def test_monitor_page_shows_milestones_charts_and_changes(served):
    html = httpx.get(served.url + "/monitor").text
    assert "Ruimtemonitor 2026" in html
    assert html.count("<svg") >= 6
    assert "mijlpaal-" in html and "Reden" in html
    assert 'class="num changed"' in html  # Utrecht's new reservering, since edition 1
    assert "t.o.v. vorige editie" in html
    assert "<img src=x" not in html and "Eerste &lt;img" in html and "{{ 7*7 }}" in html


def test_gemeente_page_hides_drafts_from_the_public(served):
    html = httpx.get(served.url + "/monitor/2/gemeente/GM0344").text
    assert "Vastgesteld" in html
    assert "Concept" not in html
    assert "Alleen vastgestelde reserveringen zijn openbaar" in html
    assert "/scenario/1" in html  # the balance in the latest run


@pytest.mark.parametrize(
    ("user", "sees"), [("utrecht", True), ("amersfoort", False), ("provincie", True)]
)
def test_gemeente_page_shows_workflow_states_to_who_may_see_them(served, user, sees):
    html = httpx.get(served.url + "/monitor/2/gemeente/GM0344", headers=auth(user)).text
    assert ('<td>Concept</td><td class="num">1</td>' in html) is sees
    assert "GEHEIM" not in html


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="poppler-utils missing")
def test_pdf_report_opens_and_holds_charts_and_a_map_image(served, tmp_path):
    for path, chart in (
        ("/monitor/2/rapport.pdf", "Reserveringen hard en zacht (Provincie"),
        ("/monitor/2/gemeente/GM0344/rapport.pdf", "Reserveringen van Utrecht"),
        ("/scenario/1/rapport.pdf", "Balans aanbod − ruimtevraag per gemeente"),
    ):
        response = httpx.get(served.url + path, timeout=120)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        pdf = tmp_path / "rapport.pdf"
        pdf.write_bytes(response.content)
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
        pages = int(
            next(ln for ln in info.stdout.splitlines() if ln.startswith("Pages")).split()[1]
        )
        assert pages >= 1
        subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "p")], check=True)
        assert len(list(tmp_path.glob("p*.png"))) == pages
        images = subprocess.run(
            ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
        )
        assert len(images.stdout.splitlines()) > 2, "no map image in the PDF"
        words = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert words.count("synthetische demodata") >= pages  # the footer of every page
        assert chart in words  # the chart's title (SVG, printed as vector text)
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            prefix = f"{SHOTS}/pdf_" + path.strip("/").replace("/", "_").removesuffix(".pdf")
            subprocess.run(["pdftoppm", "-r", "70", "-png", str(pdf), prefix], check=True)
        for png in tmp_path.glob("p*.png"):
            png.unlink()


def test_xlsx_opens_with_numeric_cells_in_dutch_format(served):
    from openpyxl import load_workbook

    response = httpx.get(served.url + "/monitor/2/tabellen.xlsx")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["Indicatoren", "Gemeenten", "Mijlpalen", "Herkomst"]
    ws = wb["Indicatoren"]
    values = [c for row in ws.iter_rows(min_row=2, min_col=3) for c in row if c.value is not None]
    assert values and all(isinstance(c.value, int | float) for c in values)
    assert all(c.number_format.startswith("[$-413]#,##0") for c in values)
    gs = wb["Gemeenten"]
    assert gs.max_row > 26
    assert isinstance(gs.cell(row=gs.max_row, column=4).value, int | float)


def test_csv_has_every_peildatum(served):
    response = httpx.get(served.url + "/monitor/2/tabellen.csv")
    assert response.status_code == 200
    for day in ("2025-01-01", "2026-01-01", "2026-07-01", "2026-12-01"):
        assert f"indicatoren,{day}," in response.text


def test_unknown_edition_is_404(served):
    assert httpx.get(served.url + "/monitor/99").status_code == 404
    assert httpx.get(served.url + "/monitor/2/gemeente/GM9999").status_code == 404


def test_api_indicators_as_of_and_editions(served):
    got = httpx.get(served.url + "/api/monitor/indicators", params={"peildatum": "2026-01-01"})
    assert got.status_code == 200
    body = got.json()
    stored = httpx.get(served.url + "/api/monitor/editions/2").json()
    assert body["indicators"] == stored["series"][1]["indicators"]
    assert body["milestones"][0]["reason"]
    assert httpx.get(served.url + "/api/monitor/editions").json()[0]["id"] == 2
    future = httpx.get(served.url + "/api/monitor/indicators", params={"peildatum": "2999-01-01"})
    assert future.status_code == 400 and "2999-01-01" in future.json()["detail"]
    assert httpx.get(served.url + "/api/monitor/editions/7").status_code == 404


def test_pdf_reaches_this_server_over_loopback_not_the_host_header():
    from app.monitor_pdf import self_url

    assert self_url({"server": ("0.0.0.0", 8000)}) == "http://127.0.0.1:8000"
    assert self_url({"server": ("127.0.0.1", 8123)}) == "http://127.0.0.1:8123"
    assert self_url({"server": ("10.1.2.3", 80)}) == "http://10.1.2.3:80"
