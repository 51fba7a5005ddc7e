"""The Ruimte monitor: indicators as of a peildatum from the layer versions valid then,
editions that recompute to identical figures, and milestone colours by the rules file."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import text

from layers.edit import create_feature, replace_feature
from layers.importer import ImportPolicy, ImportRequest, import_file
from scenarios.monitor import (
    MonitorError,
    check_edition,
    create_edition,
    figures_at,
    get_edition,
    load_config,
    milestone_status,
    parse_config,
)

NL = ZoneInfo("Europe/Amsterdam")
X0, Y0 = 140_000.0, 450_000.0
GEM = {
    "GM0001": shapely.box(X0, Y0, X0 + 1000, Y0 + 1000),
    "GM0002": shapely.box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000),
}


def box(dx: float, dy: float, w: float, h: float) -> shapely.Polygon:
    return shapely.box(X0 + dx, Y0 + dy, X0 + dx + w, Y0 + dy + h)


def _import(engine, tmp_path: Path, name: str, kind: str, rows: list[dict], when: str, new=False):
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:28992")
    path = tmp_path / f"{name}-{when}.gpkg"
    frame.to_file(path, driver="GPKG")
    import_file(
        engine,
        ImportRequest(path=path, kind=kind, name=name, new_version=new, synthetic=True),
        ImportPolicy(),
    )
    _backdate(engine, name, when)


def _backdate(engine, name: str, when: str) -> None:
    """Give the layer's newest version a known date (the store stamps now())."""
    instant = datetime.fromisoformat(when).replace(tzinfo=NL)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE layer_versions lv SET created_at = :t FROM layers l "
                "WHERE l.id = lv.layer_id AND l.name = :n AND lv.version = l.current_version"
            ),
            {"t": instant, "n": name},
        )


def _res(naam, gemeente, status, geom):
    return {
        "naam": naam,
        "gemeente": gemeente,
        "doel": "opslag",
        "status": status,
        "geometry": geom,
    }


R1 = _res("R1", "GM0001", "hard", box(100, 100, 200, 200))  # 4 ha
R2 = _res("R2", "GM0002", "zacht", box(1100, 100, 300, 300))  # 9 ha
R3 = _res("R3", "GM0002", "hard", box(1500, 500, 100, 100))  # 1 ha
R4 = _res("R4", "GM0001", "hard", box(600, 600, 200, 100))  # 2 ha, a concept: never counted
TERREIN = box(300, 500, 500, 400)  # 20 ha
LANDGEBRUIK = [
    {"klasse": "agrarisch", "geometry": box(0, 0, 2000, 600)},
    {"klasse": "bedrijventerrein", "geometry": box(0, 600, 2000, 600)},  # 200 m outside
]


def _vestiging(naam, cat, ha, dx, dy):
    return {
        "naam": naam,
        "sbi_code": "3832",
        "milieucategorie": cat,
        "oppervlakte_ha": ha,
        "geometry": shapely.Point(X0 + dx, Y0 + dy),
    }


def _locatie(naam, gemeente, cap, status, dx):
    return {
        "naam": naam,
        "type": "watergebonden",
        "capaciteit_ha": cap,
        "status": status,
        "gemeente": gemeente,
        "geometry": shapely.Point(X0 + dx, Y0 + 50),
    }


#: The layer states on each checked peildatum, written out by hand: the independent side.
STATES = {
    "2025-06-01": {
        "reserveringen": [R1, R2],
        "locaties": [(10, True), (30, False)],
        "hmc": (5.0, 20.0),
        "landgebruik": None,
    },
    "2026-01-01": {
        "reserveringen": [R1, R2, R3],
        "locaties": [(10, True), (30, False)],
        "hmc": (5.0, 20.0),
        "landgebruik": None,
    },
    "2026-07-01": {
        "reserveringen": [R1, {**R2, "status": "hard"}, R3],
        "locaties": [(10, True), (30, True)],
        "hmc": (12.0, 20.0),
        "landgebruik": LANDGEBRUIK,
    },
}


def independent(state: dict) -> dict:
    """The indicators of one state, computed directly from the geometries."""
    hard = sum(r["geometry"].area for r in state["reserveringen"] if r["status"] == "hard") / 1e4
    zacht = sum(r["geometry"].area for r in state["reserveringen"] if r["status"] == "zacht") / 1e4
    with_hard = {r["gemeente"] for r in state["reserveringen"] if r["status"] == "hard"}
    caps = state["locaties"]
    area = shapely.union_all(list(GEM.values()))
    lg = state["landgebruik"]
    return {
        "reserveringen_hard_ha": hard,
        "reserveringen_zacht_ha": zacht,
        "gemeenten_met_harde_reservering_pct": 100.0 * len(with_hard) / len(GEM),
        "strategische_locaties_beschikbaar_pct": 100.0
        * sum(c for c, ok in caps if ok)
        / sum(c for c, _ in caps),
        "hmc_benutting_pct": 100.0 * state["hmc"][0] / state["hmc"][1],
        "landgebruik_duizend_ha": (
            None
            if lg is None
            else sum(f["geometry"].intersection(area).area for f in lg) / 1e4 / 1000
        ),
    }


@pytest.fixture
def history(db, tmp_path):
    """Imports and edits at known dates (see STATES)."""
    gem = [{"statcode": c, "naam": f"Gemeente {c[-1]}", "geometry": g} for c, g in GEM.items()]
    _import(db, tmp_path, "gemeenten", "gemeenten", gem, "2025-03-01T10:00")
    _import(db, tmp_path, "reserveringen", "reserveringen", [R1, R2], "2025-03-01T10:00")
    locaties = [
        _locatie("S1", "GM0001", 10, "beschikbaar", 50),
        _locatie("S2", "GM0002", 30, "verkenning", 1050),
    ]
    _import(db, tmp_path, "strategische_locaties", "strategische_locaties", locaties, "2025-03-01")
    terrein = {
        "naam": "T",
        "gemeente": "GM0001",
        "bruto_ha": 20.0,
        "netto_ha": 20.0,
        "uitgegeven_ha": 15.0,
        "uitgeefbaar_ha": 5.0,
        "max_milieucategorie": "4.2",
        "geometry": TERREIN,
    }
    _import(db, tmp_path, "bedrijventerreinen", "bedrijventerreinen", [terrein], "2025-03-01")
    v1 = [_vestiging("V1", "4.1", 5.0, 400, 600), _vestiging("V2", "2", 3.0, 500, 600)]
    _import(db, tmp_path, "vestigingen", "vestigingen", v1, "2025-03-01")
    # 2025-09-01: a new hard reservering
    with db.begin() as conn:
        props = {k: v for k, v in R3.items() if k != "geometry"}
        create_feature(conn, "reserveringen", R3["geometry"], props, "GM0002")
    _backdate(db, "reserveringen", "2025-09-01")
    # 2026-02-01: R2 adopted in the omgevingsplan (hard); more HMC firms
    with db.begin() as conn:
        fid = conn.execute(
            text(
                "SELECT fid FROM features f JOIN layers l ON l.id = f.layer_id "
                "WHERE l.name = 'reserveringen' AND f.properties->>'naam' = 'R2' "
                "AND f.version_to IS NULL"
            )
        ).scalar_one()
        props = {k: v for k, v in R2.items() if k != "geometry"} | {"status": "hard"}
        replace_feature(conn, "reserveringen", fid, R2["geometry"], props, "GM0002")
    _backdate(db, "reserveringen", "2026-02-01")
    v2 = [
        _vestiging("V1", "4.1", 8.0, 400, 600),
        _vestiging("V2", "2", 3.0, 500, 600),
        _vestiging("V3", "5.1", 4.0, 600, 700),
    ]
    _import(db, tmp_path, "vestigingen", "vestigingen", v2, "2026-02-01", new=True)
    # 2026-03-01: a gemeente's concept: a draft, never in the monitor
    with db.begin() as conn:
        props = {k: v for k, v in R4.items() if k != "geometry"}
        create_feature(conn, "reserveringen", R4["geometry"], props, "GM0001", draft=True)
    _backdate(db, "reserveringen", "2026-03-01")
    # 2026-05-01: landgebruik arrives; S2 becomes available
    _import(db, tmp_path, "landgebruik", "landgebruik", LANDGEBRUIK, "2026-05-01")
    locaties[1] = _locatie("S2", "GM0002", 30, "beschikbaar", 1050)
    _import(
        db, tmp_path, "strategische_locaties", "strategische_locaties", locaties, "2026-05-01", True
    )
    return db


def test_indicators_at_three_peildata_match_an_independent_computation(history):
    config, _ = load_config()
    with history.connect() as conn:
        for day, state in STATES.items():
            fig = figures_at(conn, config, date.fromisoformat(day))
            expected = independent(state)
            for key, value in expected.items():
                got = fig["indicators"][key]
                if value is None:
                    assert got is None, (day, key)
                else:
                    assert got == pytest.approx(value, abs=1e-6), (day, key, got, value)
            rows = {r["statcode"]: r for r in fig["per_gemeente"]}
            for code in GEM:
                mine = [r for r in state["reserveringen"] if r["gemeente"] == code]
                hard = sum(r["geometry"].area for r in mine if r["status"] == "hard") / 1e4
                assert rows[code]["reserveringen_hard_ha"] == pytest.approx(hard)
            assert fig["synthetic"] is True


def test_before_any_layer_there_are_no_figures(history):
    config, _ = load_config()
    with history.connect() as conn:
        fig = figures_at(conn, config, date(2025, 1, 1))
    assert fig["layers"] == {}
    assert set(fig["indicators"].values()) == {None}
    assert fig["notes"]


def test_an_edition_recomputes_to_identical_figures_and_is_never_overwritten(history):
    config, raw = load_config()
    days = [date.fromisoformat(d) for d in STATES]
    with history.begin() as conn:
        eid = create_edition(conn, config, raw, days, today=date(2026, 12, 2))
    with history.connect() as conn:
        stored = get_edition(conn, eid)
        before = stored.result
        assert stored.layer_versions["2026-01-01"]["reserveringen"] == 2
    # later edits do not change what the edition read
    with history.begin() as conn:
        props = {k: v for k, v in R1.items() if k != "geometry"}
        create_feature(conn, "reserveringen", box(700, 100, 100, 100), props, "GM0001")
    with history.connect() as conn:
        check = check_edition(conn, get_edition(conn, eid))
        assert check["identical"], check["differences"]
        assert get_edition(conn, eid).result == before


def test_future_peildatum_is_refused(history):
    config, raw = load_config()
    with history.begin() as conn, pytest.raises(MonitorError, match="2027-01-01"):
        create_edition(conn, config, raw, [date(2027, 1, 1)], today=date(2026, 12, 2))


# -- milestone colours follow the rules file ------------------------------------------------


@pytest.fixture(scope="module")
def cfg():
    return load_config()[0]


def _m(cfg, mid):
    return next(m for m in cfg.milestones if m.id == mid)


def test_milestone_groen_when_the_target_is_met(cfg):
    s = milestone_status(cfg, _m(cfg, "hmc-benutting"), date(2026, 1, 1), 80.0)
    assert (s["status"], cfg.rules[s["rule"]].when) == ("groen", ["doel_gehaald"])


def test_milestone_oranje_within_the_margin(cfg):
    s = milestone_status(cfg, _m(cfg, "hmc-benutting"), date(2028, 1, 1), 70.0)
    assert (s["status"], cfg.rules[s["rule"]].when) == ("oranje", ["binnen_marge"])


def test_milestone_oranje_before_the_deadline(cfg):
    s = milestone_status(cfg, _m(cfg, "strategische-locaties-beschikbaar"), date(2026, 1, 1), 10.0)
    assert (s["status"], cfg.rules[s["rule"]].when) == ("oranje", ["voor_deadline"])


def test_milestone_rood_after_the_deadline(cfg):
    s = milestone_status(cfg, _m(cfg, "hmc-benutting"), date(2027, 1, 1), 40.0)
    assert (s["status"], cfg.rules[s["rule"]].when) == ("rood", ["altijd"])


def test_milestone_rood_without_a_value(cfg):
    s = milestone_status(cfg, _m(cfg, "hmc-benutting"), date(2026, 1, 1), None)
    assert (s["status"], cfg.rules[s["rule"]].when) == ("rood", ["geen_waarde"])


def test_rules_come_from_the_file(cfg):
    raw = load_config()[1]
    flipped = {**raw, "rules": [{"status": "groen", "when": ["altijd"], "reason": "altijd"}]}
    other = parse_config(flipped)
    assert milestone_status(other, _m(other, "hmc-benutting"), date(2030, 1, 1), 0.0)["status"] == (
        "groen"
    )


def test_a_bad_configuration_names_every_problem():
    raw = load_config()[1]
    bad = {**raw, "milestones": [{**raw["milestones"][0], "indicator": "onbekend"}]}
    bad["rules"] = [{"status": "paars", "when": ["altijd"], "reason": ""}]
    with pytest.raises(MonitorError) as info:
        parse_config(bad)
    assert "paars" in info.value.message or "status" in info.value.message


def test_cli_monitor_peildatum_and_editions(history, ruimte):
    shown = ruimte("monitor", "--peildatum", "2026-01-01", "--json")
    fig = __import__("json").loads(shown.stdout)
    assert fig["indicators"]["reserveringen_hard_ha"] == pytest.approx(5.0)
    text_out = ruimte("monitor", "--peildatum", "2026-01-01").stdout
    assert "Harde reserveringen" in text_out and "5,0" in text_out
    assert "stored" in ruimte("monitor", "edition", "--peildatum", "2026-01-01").stdout
    assert "identical" in ruimte("monitor", "check", "1").stdout
    assert "2026-01-01" in ruimte("monitor", "list", check=True).stdout
    bad = ruimte("monitor", "--peildatum", "1-1-2026", check=False)
    assert bad.returncode != 0 and "1-1-2026" in bad.stderr
