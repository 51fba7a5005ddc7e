"""``ruimte demo-data``: synthetic demo layers, deterministic, plausible, checked, all or nothing.

Plausibility figures are computed in PostGIS on the stored layers, not taken from the
generator. The demo (on the CBS 2025 gemeenten shipped with the package, and once more on a
gemeenten file) is loaded once per module into a database of its own, so that the ``db``
fixture's truncation does not touch it.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys

import pytest
import shapely
from sqlalchemy import create_engine, text

from app.database import migrate
from app.settings import WorkAreaSettings
from layers import boundaries
from layers.demo import DEMO_LAYERS, DemoOptions, generate_demo_data, load_demo_data
from layers.errors import LayerError, LayerExists
from layers.importer import ImportPolicy
from layers.store import properties_json
from tests.conftest import ROOT, create_database, drop_database
from tests.helpers import table_counts

SEED = 2025
GEMEENTE_LAYERS = (
    "bedrijventerreinen",
    "strategische_locaties",
    "reserveringen",
    "landgebruik",
    "vestigingen",
)
#: bruto_ha is the polygon's area rounded to 0.01 ha, so each may differ by half of that.
BRUTO_TOLERANCE_HA = 0.005 + 1e-9
#: Interiors of a and b share an area (touching edges do not count).
OVERLAP = "ST_Intersects(a.geom, b.geom) AND ST_Relate(a.geom, b.geom, '2********')"
HMC = "(properties->>'max_milieucategorie')::numeric >= 4"
#: The 26 gemeenten of the province, CBS 2025 (generalised): 1,551.5 km².
PROVINCE_KM2 = 1_551.5


def policy() -> ImportPolicy:
    """The import policy of the default settings (the province's work area)."""
    province = WorkAreaSettings(_env_file=None).resolve()
    return ImportPolicy(work_area=province.work_area, work_area_name="the province of Utrecht")


def offline(seed: int = SEED, **kwargs) -> DemoOptions:
    return DemoOptions(seed=seed, online=False, **kwargs)


def real_gemeenten(shared_data) -> DemoOptions:
    return DemoOptions(
        seed=SEED,
        gemeenten_path=shared_data / "cbs_gemeenten_provincie_utrecht_2025.gpkg",
        gemeenten_layer="gemeente_2025_utrecht",
    )


def _demo_database(pg_server, suffix: str, options: DemoOptions):
    name = f"ruimte_test_demo_{suffix}_{os.getpid()}"
    url = create_database(pg_server, name)
    migrate(url)
    eng = create_engine(url)
    summary = load_demo_data(eng, options, policy())
    return name, eng, summary


@pytest.fixture(scope="module")
def demo(pg_server):
    """A database holding the demo (seed 2025, offline), and its summary lines."""
    name, eng, summary = _demo_database(pg_server, "offline", offline())
    yield eng, summary
    eng.dispose()
    drop_database(pg_server, name)


@pytest.fixture(scope="module")
def real_demo(pg_server, shared_data):
    """A database holding the demo built on a gemeenten file (``--gemeenten``)."""
    name, eng, summary = _demo_database(pg_server, "real", real_gemeenten(shared_data))
    yield eng, summary
    eng.dispose()
    drop_database(pg_server, name)


def rows(engine, sql: str, **params) -> list:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).all()


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def layer(name: str) -> str:
    """The current features of demo layer ``name``, as a subquery."""
    assert name in DEMO_LAYERS
    return (
        "(SELECT f.* FROM features f JOIN layers l ON l.id = f.layer_id "
        f"WHERE l.name = '{name}' AND f.version_to IS NULL)"
    )


def num(field: str, alias: str = "") -> str:
    """A numeric property as SQL."""
    return f"({alias + '.' if alias else ''}properties->>'{field}')::numeric"


def area_ha(engine, name: str, where: str = "true") -> float:
    return scalar(engine, f"SELECT sum(ST_Area(geom)) / 1e4 FROM {layer(name)} x WHERE {where}")


def overlapping_pairs(engine, name: str, other: str | None = None) -> int:
    """Pairs of features (of one layer, or of two) whose interiors overlap."""
    if other is None:
        join = f"{layer(name)} a JOIN {layer(name)} b ON a.fid < b.fid AND {OVERLAP}"
    else:
        join = f"{layer(name)} a JOIN {layer(other)} b ON {OVERLAP}"
    return scalar(engine, f"SELECT count(*) FROM {join}")


def stored_features(engine) -> dict[str, list[tuple[str, str]]]:
    """Per demo layer: (hex WKB, properties as JSON text) of each feature, in fid order."""
    out = {}
    for name in DEMO_LAYERS:
        sql = (
            "SELECT encode(ST_AsBinary(geom), 'hex'), properties::text "
            f"FROM {layer(name)} x ORDER BY fid"
        )
        out[name] = [(r[0], r[1]) for r in rows(engine, sql)]
    return out


def digest(seed: int) -> str:
    """SHA-256 over every generated layer's WKB and property JSON (offline, no database)."""
    return data_digest(generate_demo_data(offline(seed), policy()))


def data_digest(data) -> str:
    """SHA-256 over every layer's WKB and property JSON of generated demo data."""
    h = hashlib.sha256()
    for lyr in data.layers:
        h.update(lyr.name.encode())
        for wkb in shapely.to_wkb(lyr.geometries):
            h.update(wkb)
        for line in properties_json(lyr.frame):
            h.update(line.encode())
    return h.hexdigest()


def _gemeente_mismatches(eng) -> dict[str, int]:
    """Per layer: features whose gemeente is not the one holding their point on surface."""
    found = rows(
        eng,
        "SELECT l.name, count(*) FROM features f JOIN layers l ON l.id = f.layer_id "
        "LEFT JOIN LATERAL (SELECT g.gemeente AS code FROM features g "
        "  JOIN layers gl ON gl.id = g.layer_id "
        "  WHERE gl.name = 'gemeenten' AND g.version_to IS NULL "
        "  AND ST_Contains(g.geom, ST_PointOnSurface(f.geom)) LIMIT 1) c ON true "
        "WHERE f.version_to IS NULL AND l.name = ANY(:names) "
        "AND c.code IS DISTINCT FROM f.properties->>'gemeente' GROUP BY l.name",
        names=list(GEMEENTE_LAYERS),
    )
    return dict(found)


# -- the offline demo -----------------------------------------------------------------


def test_every_layer_but_the_gemeenten_is_stored_marked_synthetic(demo):
    eng, summary = demo
    found = rows(
        eng,
        "SELECT l.name, l.kind, l.title, l.description, v.synthetic, v.licence, v.source, "
        "v.attribution, v.note, v.source_date, v.feature_count FROM layers l "
        "JOIN layer_versions v ON v.layer_id = l.id AND v.version = l.current_version",
    )
    assert {r.name: r.kind for r in found} == DEMO_LAYERS
    gem = next(r for r in found if r.name == "gemeenten")
    found.remove(gem)
    assert gem.synthetic is False
    assert gem.licence == "CC BY 4.0"
    assert gem.attribution == "CBS / Kadaster, via PDOK, CC BY 4.0; generalised by cartomap/nl"
    assert "CBS gebiedsindelingen 2025" in gem.source and "cartomap/nl" in gem.source
    assert "GPL-2" in gem.note and "parcel-level" in gem.note  # the caveats travel with it
    assert str(gem.source_date) == "2025-01-01"
    assert gem.title == "Gemeenten (CBS 2025)"
    assert gem.description.startswith("Echte gemeentegrenzen van CBS 2025")
    assert "verzonnen" not in (gem.title + gem.description).lower()
    for r in found:
        assert r.synthetic is True, r.name
        assert r.licence == "CC0 1.0 (synthetic demo data)"
        assert r.source == f"ruimte demo-data (seed {SEED})"
        assert r.description.startswith("Synthetische demodata"), r.name
        assert "binnen de echte gemeentegrenzen" in r.description, r.name
        assert "synthetische demodata" in r.title, r.name
        assert r.attribution == "Ruimte Circulair demo-data generator"
        assert r.feature_count > 0
    assert any(line.startswith("bedrijventerreinen: ") and "ha bruto" in line for line in summary)
    assert any(
        line.startswith("gemeenten: 26 features, 1,551.5 km² (real, CBS 2025")
        and boundaries.ATTRIBUTION in line
        for line in summary
    )
    assert scalar(eng, "SELECT bool_and(ST_IsValid(geom)) FROM features")
    assert scalar(eng, "SELECT array_agg(DISTINCT ST_SRID(geom)) FROM features") == [28992]


def test_gemeenten_are_the_26_real_ones_of_the_province(demo):
    eng, _ = demo
    n = scalar(eng, f"SELECT count(*) FROM {layer('gemeenten')} g")
    assert n == 26
    assert area_ha(eng, "gemeenten") / 100 == pytest.approx(PROVINCE_KM2, rel=0.001)
    # exactly the shipped CBS polygons (1 m grid), not invented borders
    shipped = boundaries.gemeenten_of("PV26").set_index("statcode")
    stored = rows(eng, f"SELECT gemeente, ST_AsBinary(geom) FROM {layer('gemeenten')} g")
    assert sorted(code for code, _ in stored) == list(shipped.index)
    for code, wkb in stored:
        assert shapely.from_wkb(bytes(wkb)).symmetric_difference(shipped.geometry[code]).area < 1
    names = dict(rows(eng, f"SELECT gemeente, properties->>'naam' FROM {layer('gemeenten')} g"))
    assert names["GM0344"] == "Utrecht" and names["GM1961"] == "Vijfheerenlanden"
    assert names["GM1581"] == "Utrechtse Heuvelrug" and names["GM0307"] == "Amersfoort"
    assert overlapping_pairs(eng, "gemeenten") == 0


def test_bedrijventerreinen_totals_match_reference_figures(demo):
    eng, _ = demo
    bruto, netto = num("bruto_ha"), num("netto_ha")
    uitgegeven, uitgeefbaar = num("uitgegeven_ha"), num("uitgeefbaar_ha")
    r = rows(
        eng,
        f"SELECT count(*) AS n, sum(ST_Area(geom)) / 1e4 AS area_ha, sum({bruto}) AS bruto, "
        f"sum({netto}) AS netto, sum({uitgeefbaar}) AS uitgeefbaar, "
        f"max(abs({bruto} - ST_Area(geom)::numeric / 1e4)) AS worst_bruto, "
        f"min({netto} / {bruto}) AS min_share, max({netto} / {bruto}) AS max_share, "
        f"bool_and({uitgegeven} <= {netto}) AS issued_le_net, "
        f"max(abs({netto} - {uitgegeven} - {uitgeefbaar})) AS worst_sum "
        f"FROM {layer('bedrijventerreinen')} t",
    )[0]
    assert 250 <= r.n <= 350
    assert r.area_ha == pytest.approx(4_400, rel=0.10)
    assert float(r.worst_bruto) <= BRUTO_TOLERANCE_HA
    assert float(r.bruto) == pytest.approx(r.area_ha, abs=BRUTO_TOLERANCE_HA * r.n)
    assert 0.74 <= r.min_share and r.max_share <= 0.86  # 75–85 % before rounding to 0.01 ha
    assert float(r.netto) / float(r.bruto) == pytest.approx(0.80, abs=0.05)
    assert r.issued_le_net
    assert float(r.worst_sum) < 0.01
    assert 100 <= float(r.uitgeefbaar) <= 200


def test_hmc_terreinen_share_and_access(demo):
    eng, _ = demo
    water, spoor = "properties->>'ontsluiting_water'", "properties->>'ontsluiting_spoor'"
    access = f"(({water})::boolean OR ({spoor})::boolean)"
    r = rows(
        eng,
        f"SELECT avg(({HMC})::int) AS hmc_share, "
        f"avg({access}::int) FILTER (WHERE {HMC}) AS multimodal, "
        f"avg({access}::int) FILTER (WHERE NOT {HMC}) AS multimodal_other "
        f"FROM {layer('bedrijventerreinen')} t",
    )[0]
    assert 0.15 <= r.hmc_share <= 0.20
    assert r.multimodal >= 0.7
    assert r.multimodal > r.multimodal_other


def test_bedrijventerreinen_keep_clear_of_each_other_housing_and_water(demo):
    eng, _ = demo
    assert overlapping_pairs(eng, "bedrijventerreinen") == 0
    assert overlapping_pairs(eng, "bedrijventerreinen", "water") == 0
    assert overlapping_pairs(eng, "bedrijventerreinen", "woongebieden") == 0
    # ... but some HMC terreinen lie within the 300 m richtafstand of housing (conflicts to find)
    r = rows(
        eng,
        f"SELECT count(*) FILTER (WHERE near) AS near, count(*) AS n FROM ("
        f"SELECT EXISTS (SELECT 1 FROM {layer('woongebieden')} w "
        "WHERE ST_DWithin(t.geom, w.geom, 300)) "
        f"AS near FROM {layer('bedrijventerreinen')} t WHERE {HMC}) x",
    )[0]
    assert 0 < r.near < r.n


def test_every_feature_lies_in_the_gemeente_it_names(demo):
    eng, _ = demo
    assert _gemeente_mismatches(eng) == {}


def test_vestigingen_inside_their_terrein_and_mostly_below_its_category(demo):
    eng, _ = demo
    below = f"floor({num('milieucategorie', 'v')}) < {num('max_milieucategorie', 't')}"
    r = rows(
        eng,
        f"SELECT count(*) AS n, count(t.fid) AS matched, "
        f"count(*) FILTER (WHERE ST_Contains(t.geom, v.geom)) AS inside, "
        f"count(*) FILTER (WHERE v.gemeente = t.gemeente) AS same_gemeente, "
        f"avg(({below})::int) FILTER (WHERE {num('max_milieucategorie', 't')} >= 4) "
        "AS below_on_hmc "
        f"FROM {layer('vestigingen')} v LEFT JOIN {layer('bedrijventerreinen')} t "
        f"ON t.properties->>'naam' = v.properties->>'bedrijventerrein'",
    )[0]
    assert 1_000 <= r.n <= 10_000
    assert r.matched == r.inside == r.same_gemeente == r.n
    assert float(r.below_on_hmc) == pytest.approx(2 / 3, abs=0.07)
    unique = (
        "SELECT count(DISTINCT properties->>'naam') = count(*) "
        f"FROM {layer('bedrijventerreinen')} t"
    )
    assert scalar(eng, unique)


def test_landgebruik_covers_the_province_once(demo):
    eng, _ = demo
    province_ha = area_ha(eng, "gemeenten")
    by_class = dict(
        rows(
            eng,
            "SELECT properties->>'klasse', sum(ST_Area(geom)) / 1e4 "
            f"FROM {layer('landgebruik')} x GROUP BY 1",
        )
    )
    total = sum(by_class.values())
    assert total <= province_ha + 1.0
    assert total == pytest.approx(province_ha, rel=0.005)
    assert overlapping_pairs(eng, "landgebruik") == 0
    assert by_class["bedrijventerrein"] == pytest.approx(
        area_ha(eng, "bedrijventerreinen"), abs=1.0
    )
    assert by_class["woonterrein"] == pytest.approx(15_700, rel=0.10)
    assert by_class["agrarisch"] > 0.4 * province_ha
    assert {"water", "bos_natuur", "verkeer", "recreatie"} <= set(by_class)


def test_strategische_locaties_mostly_on_hmc_terreinen(demo):
    eng, _ = demo
    on_hmc = (
        f"EXISTS (SELECT 1 FROM {layer('bedrijventerreinen')} t "
        f"WHERE ST_Intersects(t.geom, s.geom) AND {num('max_milieucategorie', 't')} >= 4)"
    )
    n, hmc = rows(
        eng,
        f"SELECT count(*), count(*) FILTER (WHERE {on_hmc}) "
        f"FROM {layer('strategische_locaties')} s",
    )[0]
    assert 20 <= n <= 40
    assert hmc >= n / 3


def test_reserveringen_in_every_gemeente(demo):
    eng, _ = demo
    r = layer("reserveringen")
    per_gemeente = dict(rows(eng, f"SELECT gemeente, count(*) FROM {r} r GROUP BY 1"))
    assert len(per_gemeente) == 26 and min(per_gemeente.values()) >= 1
    statuses = {row[0] for row in rows(eng, f"SELECT DISTINCT properties->>'status' FROM {r} r")}
    assert statuses == {"hard", "zacht"}
    in_order = f"SELECT bool_and(properties->>'geldig_van' <= properties->>'geldig_tot') FROM {r} r"
    assert scalar(eng, in_order)
    plans = {row[0] for row in rows(eng, f"SELECT properties->>'planreferentie' FROM {r} r")}
    assert "Omgevingsplan gemeente Utrecht" in plans or "Omgevingsvisie Utrecht 2040" in plans


def test_hoofdstructuur_links_knooppunten(demo):
    eng, _ = demo
    h = layer("hoofdstructuur")
    elements = dict(rows(eng, f"SELECT properties->>'element', count(*) FROM {h} h GROUP BY 1"))
    assert set(elements) == {"knooppunt", "verbinding", "deelgebied"}
    at_hub = (
        f"EXISTS (SELECT 1 FROM {h} k WHERE k.properties->>'element' = 'knooppunt' "
        "AND ST_DWithin(k.geom, ST_{end}Point(v.geom), 1))"
    )
    loose = scalar(
        eng,
        f"SELECT count(*) FROM {h} v WHERE v.properties->>'element' = 'verbinding' "
        f"AND NOT ({at_hub.format(end='Start')} AND {at_hub.format(end='End')})",
    )
    assert loose == 0


def test_water_has_the_main_rivers_and_canals(demo):
    eng, _ = demo
    names = {row[0] for row in rows(eng, f"SELECT properties->>'naam' FROM {layer('water')} w")}
    assert {"Nederrijn en Lek", "Amsterdam-Rijnkanaal", "Eem", "Vecht"} <= names


# -- determinism ----------------------------------------------------------------------


def test_same_seed_gives_identical_stored_layers(demo, db):
    eng, _ = demo
    load_demo_data(db, offline(), policy())
    assert stored_features(db) == stored_features(eng)


def test_same_seed_gives_identical_layers_in_another_process():
    code = f"from tests.layers.test_demo import digest; print(digest({SEED}))"
    env = dict(os.environ, PYTHONHASHSEED="12345")
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=True
    )
    assert proc.stdout.strip() == digest(SEED)


def test_another_seed_gives_other_layers():
    a = generate_demo_data(offline(seed=1), policy())
    b = generate_demo_data(offline(seed=2), policy())
    ta = next(lyr for lyr in a.layers if lyr.name == "bedrijventerreinen")
    tb = next(lyr for lyr in b.layers if lyr.name == "bedrijventerreinen")
    assert not ta.frame.equals(tb.frame)
    # the gemeenten do not depend on the seed
    assert a.layers[0].frame.equals(b.layers[0].frame)


# -- gemeenten sources ----------------------------------------------------------------


@pytest.mark.shared_data
def test_a_gemeenten_file_keeps_its_source_and_totals_stay_plausible(real_demo):
    eng, summary = real_demo
    versions = {
        r.name: r
        for r in rows(
            eng,
            "SELECT l.name, v.synthetic, v.source, v.licence FROM layers l "
            "JOIN layer_versions v ON v.layer_id = l.id",
        )
    }
    gem = versions.pop("gemeenten")
    assert gem.synthetic is False
    assert gem.source == "cbs_gemeenten_provincie_utrecht_2025.gpkg / gemeente_2025_utrecht"
    assert gem.licence != "CC0 1.0 (synthetic demo data)"
    assert len(versions) == 8 and all(r.synthetic for r in versions.values())
    assert area_ha(eng, "gemeenten") == pytest.approx(155_150, rel=0.001)
    assert area_ha(eng, "bedrijventerreinen") == pytest.approx(4_400, rel=0.10)
    uitgeefbaar = f"SELECT sum({num('uitgeefbaar_ha')}) FROM {layer('bedrijventerreinen')} t"
    assert 100 <= scalar(eng, uitgeefbaar) <= 200
    woon = area_ha(eng, "landgebruik", "properties->>'klasse' = 'woonterrein'")
    assert woon == pytest.approx(15_700, rel=0.10)
    assert area_ha(eng, "landgebruik") == pytest.approx(155_150, rel=0.005)
    assert overlapping_pairs(eng, "landgebruik") == 0
    assert _gemeente_mismatches(eng) == {}
    assert any("real, from cbs_gemeenten" in line for line in summary)


def test_the_demo_needs_no_network(monkeypatch):
    """``--offline`` or not: the boundaries ship with the package, nothing connects anywhere."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"the demo tried to connect: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for online in (True, False):
        data = generate_demo_data(DemoOptions(online=online), policy())
        assert data.gemeenten.origin == "package"
        assert len(data.layers[0].frame) == 26


def test_a_file_of_the_whole_country_gives_the_province_by_membership(tmp_path):
    """A file with all 342 gemeenten: the 26 whose largest part lies in the province are kept."""
    country = boundaries.gemeenten().rename(columns={"naam": "statnaam"})
    path = tmp_path / "gemeenten_nl.gpkg"
    country.to_file(path, layer="gemeente_2025", driver="GPKG")
    data = generate_demo_data(DemoOptions(gemeenten_path=path), policy())
    gem = data.layers[0]
    assert data.gemeenten.origin == "file"
    assert "kept the 26 gemeenten of the province out of 342" in " ".join(data.gemeenten.notes)
    assert sorted(gem.frame["statcode"]) == sorted(boundaries.gemeenten_of("PV26")["statcode"])
    assert float(shapely.area(gem.geometries).sum()) / 1e6 == pytest.approx(PROVINCE_KM2, rel=1e-3)


def test_an_unknown_province_is_refused_before_anything_is_stored(db):
    before = table_counts(db)
    with pytest.raises(LayerError, match="'Gelre' is not a work area: give a CBS 2025 province"):
        load_demo_data(db, offline(province="Gelre"), policy())
    with pytest.raises(LayerError, match="did you mean 'Gelderland'"):
        load_demo_data(db, offline(province="Gelderlnd"), policy())
    assert table_counts(db) == before


# -- existing layers, all or nothing, CLI ---------------------------------------------


def test_existing_demo_layers_refused_without_replace(db):
    load_demo_data(db, offline(), policy())
    before = table_counts(db)
    with pytest.raises(LayerExists) as exc:
        load_demo_data(db, offline(seed=7), policy())
    assert "bedrijventerreinen" in str(exc.value) and "--replace" in str(exc.value)
    assert table_counts(db) == before

    load_demo_data(db, offline(seed=7, replace=True), policy())
    versions = dict(rows(db, "SELECT name, current_version FROM layers"))
    assert set(versions.values()) == {2}
    current = scalar(db, "SELECT count(*) FROM features WHERE version_to IS NULL")
    assert current < scalar(db, "SELECT count(*) FROM features")


def test_a_failure_while_storing_stores_nothing(db, monkeypatch):
    import layers.demo as demo_module

    real_store = demo_module.store_layer
    calls = {"n": 0}

    def failing_store(conn, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            raise LayerError("disk full (simulated)")
        return real_store(conn, **kwargs)

    monkeypatch.setattr(demo_module, "store_layer", failing_store)
    before = table_counts(db)
    with pytest.raises(LayerError, match="simulated"):
        load_demo_data(db, offline(), policy())
    assert table_counts(db) == before


def test_cli_demo_data_stores_the_26_real_gemeenten_then_refuses_a_second_run(ruimte, db):
    """Acceptance: on a fresh database 26 real gemeenten totalling 1,551.5 km² ± 0.1 %."""
    proc = ruimte("demo-data", check=True)
    assert "bedrijventerreinen: " in proc.stdout and "ha bruto" in proc.stdout
    assert "gemeenten: 26 features, 1,551.5 km² (real, CBS 2025" in proc.stdout
    n, km2, synthetic = rows(
        db,
        "SELECT count(*), sum(ST_Area(g.geom)) / 1e6, bool_or(v.synthetic) "
        f"FROM {layer('gemeenten')} g JOIN layer_versions v "
        "ON v.layer_id = g.layer_id AND v.version = g.version_from",
    )[0]
    assert n == 26 and synthetic is False
    assert km2 == pytest.approx(PROVINCE_KM2, rel=0.001)
    before = table_counts(db)

    again = ruimte("demo-data", "--offline")
    assert again.returncode == 1
    assert "already exist" in again.stderr and "--replace" in again.stderr
    assert "Traceback" not in again.stderr
    assert table_counts(db) == before

    listed = ruimte("layers", "list", "--json", check=True)
    assert {lyr["name"] for lyr in json.loads(listed.stdout)} == set(DEMO_LAYERS)
