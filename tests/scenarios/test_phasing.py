"""Phasing: milestones, supply available by date, first shortage and staged allocation, on a
hand-built world with figures worked out by hand (no database; issue 16, item 2)."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely

from layers.milieucategorie import load_table
from scenarios.compute import compute, compute_figures
from scenarios.errors import SpecError
from scenarios.inputs import Inputs, LayerData
from scenarios.validation import validate_spec

X, Y = 130_000.0, 450_000.0
TABLE = load_table()
PROVINCE = ("PV99", "Provincie Proef")
MILESTONES = [2030, 2035, 2040, 2050]
GROWTH = 80  # % of the current 10 ha of each gemeente: 8 ha extra by 2050
CELL = 50  # m: 0.25 ha a cell


def box(x0, y0, x1, y1):
    return shapely.box(X + x0, Y + y0, X + x1, Y + y1)


def world() -> Inputs:
    """A and B, 2 × 2 km each, a 10 ha terrein in each (not HMC).

    A: nothing issuable; a hard reservering of 4 ha valid from 2032.
    B: 4 ha nog uitgeefbaar on an existing terrein (available now); a strategische locatie
    of 8 ha (voorgesteld) available from 2041.
    """
    gemeenten = LayerData(
        "gemeenten",
        "gemeenten",
        1,
        np.array([box(0, 0, 2000, 2000), box(2000, 0, 4000, 2000)]),
        pd.DataFrame({"statcode": ["GM0001", "GM0002"], "naam": ["Aadorp", "Beekdorp"]}),
    )
    terreinen = LayerData(
        "bedrijventerreinen",
        "bedrijventerreinen",
        1,
        np.array([box(900, 900, 1216.2278, 1216.2278), box(2900, 900, 3216.2278, 1216.2278)]),
        pd.DataFrame(
            {
                "naam": ["Oud A", "Oud B"],
                "gemeente": ["GM0001", "GM0002"],
                "bruto_ha": [10.0, 10.0],
                "netto_ha": [10.0, 10.0],
                "uitgegeven_ha": [10.0, 6.0],
                "uitgeefbaar_ha": [0.0, 4.0],
                "max_milieucategorie": ["3.1", "3.1"],
                "type_werklocatie": ["B", "B"],
                "terreintype": [None, None],
                "planstatus": ["bestaand", "bestaand"],
            }
        ),
    )
    reserveringen = LayerData(
        "reserveringen",
        "reserveringen",
        1,
        np.array([box(100, 1700, 300, 1900)]),  # 4 ha
        pd.DataFrame(
            {
                "naam": ["Reservering A"],
                "gemeente": ["GM0001"],
                "doel": ["opslag bouwmaterialen"],
                "functie": ["tijdelijke_opslag"],
                "status": ["hard"],
                "geldig_van": ["2032-01-01"],
                "geldig_tot": [None],
            }
        ),
    )
    locaties = LayerData(
        "strategische_locaties",
        "strategische_locaties",
        1,
        np.array([box(3700, 1700, 3800, 1800)]),
        pd.DataFrame(
            {
                "naam": ["Stadsrand B"],
                "type": ["stadsrand"],
                "functie": ["bouwhub"],
                "capaciteit_ha": [8.0],
                "status": ["voorgesteld"],
                "gemeente": ["GM0002"],
                "beschikbaar_vanaf": [2041],
            }
        ),
    )
    layers = {
        "gemeenten": gemeenten,
        "bedrijventerreinen": terreinen,
        "reserveringen": reserveringen,
        "strategische_locaties": locaties,
    }
    return Inputs(
        layers=layers,
        gemeenten="gemeenten",
        bedrijventerreinen="bedrijventerreinen",
        reserveringen="reserveringen",
        strategische_locaties="strategische_locaties",
    )


def raw_spec(plain: bool = False, **phasing) -> dict:
    return {
        "name": "fasering",
        "base_year": 2025,
        "horizon_year": 2050,
        "layers": {
            "reserveringen": "reserveringen",
            "strategische_locaties": "strategische_locaties",
        },
        "demand": {"basis": "bruto", "categories": [{"name": "alle", "growth_pct": GROWTH}]},
        "supply": {"netto_bruto_ratio": 1.0, "reserveringen": {"hard": 1, "zacht": 0}},
        "allocation": {
            "cell_size_m": CELL,
            "criteria": [
                {
                    "name": "nabij",
                    "type": "proximity",
                    "weight": 1,
                    "max_distance_m": 2000,
                    "layers": ["bedrijventerreinen"],
                }
            ],
        },
        **({"phasing": {"milestones": MILESTONES, **phasing}} if not plain else {}),
    }


def independent(supply_of, share_of=None) -> dict[str, dict]:
    """Demand, supply, balance, first shortage and cumulative allocation worked out here."""
    out = {}
    for code, supply in supply_of.items():
        rows, most, first = [], 0.0, None
        for year in MILESTONES:
            share = share_of[year] if share_of else (year - 2025) / (2050 - 2025)
            demand = 10.0 * GROWTH / 100 * share
            s = supply(year)
            uncovered = max(0.0, demand - s)
            most = max(most, uncovered)  # what is allocated stays allocated
            if s - demand < 0 and first is None:
                first = year
            cells = int(np.ceil(most / (CELL * CELL / 10_000) - 1e-9))
            rows.append((year, demand, s, s - demand, uncovered, most, cells))
        out[code] = {"rows": rows, "first": first}
    return out


SUPPLY = {
    "GM0001": lambda year: 4.0 if year >= 2032 else 0.0,  # the reservering from 2032
    "GM0002": lambda year: 4.0 + (8.0 if year >= 2041 else 0.0),  # the location from 2041
}


@pytest.fixture(scope="module")
def phased():
    spec = validate_spec(raw_spec(lead_time_years={"harde_plancapaciteit": 6}))
    return spec, compute(spec, world(), TABLE, province=PROVINCE)


def test_first_shortage_and_staged_allocation_equal_an_independent_computation(phased):
    _, comp = phased
    ph = comp.result.phasing
    assert ph is not None and ph.milestones == MILESTONES and ph.staged
    expected = independent(SUPPLY)
    by_code = {r.statcode: r for r in ph.per_gemeente}
    # A runs short before its reservering (2032) is valid; B only in 2040, before its
    # location (2041) comes; by 2050 B has room again
    assert by_code["GM0001"].first_shortage == expected["GM0001"]["first"] == 2030
    assert by_code["GM0002"].first_shortage == expected["GM0002"]["first"] == 2040
    for code, row in by_code.items():
        for got, (year, demand, supply, bal, unc, most, cells) in zip(
            row.milestones, expected[code]["rows"], strict=True
        ):
            assert got.year == year
            assert got.demand_ha == pytest.approx(demand, abs=0.01)
            assert got.supply_ha == pytest.approx(supply, abs=0.01)
            assert got.balance_ha == pytest.approx(bal, abs=0.01)
            assert got.uncovered_ha == pytest.approx(unc, abs=0.01)
            assert got.allocated_ha == pytest.approx(most, abs=0.01)
            assert got.allocated_cells == cells
            assert got.unmet_ha == pytest.approx(max(0.0, unc - most), abs=0.01)
    # A: 1.6 ha by 2030, kept through 2035-2040 although the reservering covers it, 4 by 2050
    assert [m.allocated_ha for m in by_code["GM0001"].milestones] == pytest.approx(
        [1.6, 1.6, 1.6, 4.0], abs=0.01
    )
    # B: 0.8 ha in 2040, kept in 2050 although the location covers the demand by then
    assert [m.allocated_ha for m in by_code["GM0002"].milestones] == pytest.approx(
        [0.0, 0.0, 0.8, 0.8], abs=0.01
    )
    # the province: 2040 is the first milestone with less supply than demand
    assert ph.totals.first_shortage == 2040
    assert ph.totals.milestones[-1].allocated_ha == pytest.approx(4.8, abs=0.01)


def test_cells_allocated_at_a_milestone_stay_allocated_later(phased):
    _, comp = phased
    ph = comp.result.phasing
    with rasterio.open(io.BytesIO(comp.rasters["fasering"][0])) as src:
        stage, nodata = src.read(1), src.nodata
    with rasterio.open(io.BytesIO(comp.rasters["allocation"][0])) as src:
        plain = src.read(1)
    assert np.array_equal(stage == nodata, plain == 255)
    inside = stage[stage != nodata]
    # cells held by milestone k = cells with stage 1..k, and they match the result per milestone
    for k, total in enumerate(ph.totals.milestones, start=1):
        assert np.count_nonzero((inside >= 1) & (inside <= k)) == total.allocated_cells
    layer = comp.layers["fasering"]
    frame = layer.frame.assign(geometry=list(layer.geometries))
    for code in ("GM0001", "GM0002"):
        mine = frame[frame["gemeente"] == code].sort_values("mijlpaal")
        geoms = list(mine["geometry"])
        for earlier, later in zip(geoms, geoms[1:], strict=False):
            assert earlier.difference(later).area == pytest.approx(0.0, abs=1e-6)
        assert list(mine["ha"]) == pytest.approx(
            [
                m.allocated_cells * 0.25
                for m in ph.per_gemeente[0 if code == "GM0001" else 1].milestones
                if m.allocated_cells
            ],
            abs=1e-9,
        )
    # A's 2030 cells (7 of 0.25 ha for 1.6 ha) are the same cells in 2050's 16
    a = frame[frame["gemeente"] == "GM0001"].set_index("mijlpaal")
    assert a.at[2030, "cellen"] == 7 and a.at[2050, "cellen"] == 16
    assert a.at[2030, "geometry"].within(a.at[2050, "geometry"].buffer(1e-6))


def test_the_plain_run_is_unchanged_by_phasing(phased):
    spec, comp = phased
    plain = compute(validate_spec(raw_spec(plain=True)), world(), TABLE, province=PROVINCE)
    got = comp.result.as_json()
    got.pop("phasing")
    assert got == plain.result.as_json()
    for name, (content, _) in plain.rasters.items():
        assert comp.rasters[name][0] == content
    assert "phasing" not in plain.result.as_json() and "fasering" not in plain.rasters


def test_a_demand_path_per_milestone_and_lead_times_of_planstatus():
    shares = {2030: 0.5, 2035: 0.5, 2040: 0.75, 2050: 1.0}
    # B's uitgeefbaar ha is on a bestaand terrein: with a lead time of 8 years it comes in 2033
    spec = validate_spec(raw_spec(demand_path=shares, lead_time_years={"bestaand": 8}))
    comp = compute_figures(spec, world(), TABLE, province=PROVINCE)
    ph = comp.result.phasing
    supply = {
        "GM0001": SUPPLY["GM0001"],
        "GM0002": lambda year: (4.0 if year >= 2033 else 0.0) + (8.0 if year >= 2041 else 0.0),
    }
    expected = independent(supply, shares)
    for row in ph.per_gemeente:
        assert row.first_shortage == expected[row.statcode]["first"]
        got = [v for m in row.milestones for v in (m.demand_ha, m.supply_ha)]
        want = [v for r in expected[row.statcode]["rows"] for v in (r[1], r[2])]
        assert got == pytest.approx(want)
    assert ph.per_gemeente[1].first_shortage == 2030
    assert ph.demand_shares == [0.5, 0.5, 0.75, 1.0] and not ph.staged
    assert ph.per_gemeente[0].milestones[0].allocated_ha is None
    assert ph.lead_time_years["bestaand"] == 8 and ph.lead_time_years["in_aanleg"] == 2


@pytest.mark.parametrize(
    ("phasing", "field", "message"),
    [
        ({"milestones": [2035, 2030]}, "phasing.milestones", "strictly increasing"),
        ({"milestones": [2030, 2030]}, "phasing.milestones", "strictly increasing"),
        ({"milestones": [2030, 2055]}, "phasing.milestones[1]", "after the horizon year"),
        ({"milestones": [2025, 2030]}, "phasing.milestones[0]", "after the base year"),
        (
            {"milestones": [2030, 2050], "lead_time_years": {"harde_plancapacitet": 3}},
            "phasing.lead_time_years.harde_plancapacitet",
            "did you mean 'harde_plancapaciteit'",
        ),
        (
            {"milestones": [2030, 2050], "demand_path": {2030: 0.4, 2040: 1.0}},
            "phasing.demand_path",
            "no share for milestone.s. 2050; 2040 not a milestone",
        ),
        (
            {"milestones": [2030, 2050], "demand_path": {2030: 0.4, 2050: 0.9}},
            "phasing.demand_path.2050",
            "must be 1",
        ),
        (
            {"milestones": [2030, 2050], "demand_path": {2030: 0.6, 2050: 0.5}},
            "phasing.demand_path",
            "must not fall",
        ),
        ({"milestones": [2030], "demand_path": "lineair"}, "phasing.demand_path", "linear"),
        ({"milestones": [2030], "lead_time_years": {"bestaand": -1}}, "phasing", "between 0"),
    ],
)
def test_a_bad_phasing_is_a_spec_error_naming_the_field(phasing, field, message):
    raw = raw_spec()
    raw["phasing"] = phasing
    with pytest.raises(SpecError) as err:
        validate_spec(raw)
    text = str(err.value)
    assert field in text, text
    assert re.search(message, text), text


@pytest.mark.parametrize("unit", ["gemeente", "region"])
def test_the_chunked_engine_gives_the_same_staged_allocation(unit):
    from scenarios.chunked import MIN_CHUNK_CELLS, Chunked
    from scenarios.engine import InMemory

    inputs = world()
    # B's terrein is HMC: its growth needs HMC space, which only its uitgeefbaar ha offers
    inputs.layers["bedrijventerreinen"].properties.loc[1, "max_milieucategorie"] = "4.2"
    raw = raw_spec()
    raw["allocation"]["unit"] = unit
    raw["allocation"]["cell_size_m"] = 5  # several chunks
    if unit == "region":
        raw["regions"] = {"samen": ["GM0001", "GM0002"]}
    spec = validate_spec(raw)
    memory = compute(spec, inputs, TABLE, province=PROVINCE, engine=InMemory())
    chunked = compute(
        spec, inputs, TABLE, province=PROVINCE, engine=Chunked(chunk_cells=MIN_CHUNK_CELLS)
    )
    assert chunked.result.phasing.as_json() == memory.result.phasing.as_json()
    assert chunked.rasters["fasering"][0] == memory.rasters["fasering"][0]
    ph = memory.result.phasing
    held = [m.allocated_cells for m in ph.totals.milestones]
    assert held == sorted(held) and held[-1] > 0
    b = ph.per_gemeente[1]
    assert any((m.hmc_allocated_ha or 0) > 0 for m in b.milestones)
    for m in ph.totals.milestones:
        assert m.allocated_ha == pytest.approx(
            sum(r.milestones[ph.milestones.index(m.year)].allocated_ha for r in ph.per_gemeente)
        )


def test_the_csv_and_the_cli_table_carry_the_first_shortage(phased):
    import csv

    from rich.console import Console

    from app.cli.scenario import phasing_table
    from scenarios.tables import result_csv

    _, comp = phased
    rows = {r["statcode"]: r for r in csv.DictReader(io.StringIO(result_csv(comp.result)))}
    assert rows["GM0001"]["first_shortage"] == "2030"
    assert rows["GM0002"]["first_shortage"] == "2040"
    assert rows["PV99"]["first_shortage"] == "2040"
    assert float(rows["GM0001"]["m2030_balance_ha"]) == pytest.approx(-1.6)
    assert float(rows["GM0001"]["m2050_allocated_ha"]) == pytest.approx(4.0)
    assert float(rows["GM0002"]["m2050_unmet_ha"]) == pytest.approx(0.0)
    console = Console(record=True, width=250, color_system=None)
    console.print(phasing_table(comp.result.phasing))
    text = console.export_text()
    assert "Eerste tekort" in text and "toegewezen t/m 2050" in text
    line = next(x for x in text.splitlines() if "Aadorp" in x)
    assert "2030" in line and "-1.6" in line


def test_a_terrein_without_planstatus_stops_a_phased_run_naming_it():
    from scenarios.values import UnknownValues

    inputs = world()
    inputs.layers["bedrijventerreinen"].properties.loc[1, "planstatus"] = None
    spec = validate_spec(raw_spec())
    with pytest.raises(UnknownValues, match="planstatus") as err:
        compute_figures(spec, inputs, TABLE, province=PROVINCE)
    assert "phasing.lead_time_years" in str(err.value)
    # without phasing the planstatus is not read
    compute_figures(validate_spec(raw_spec(plain=True)), inputs, TABLE, province=PROVINCE)


def test_comparing_a_phased_run_with_a_plain_one_gives_both_first_shortages(phased):
    from scenarios.tables import compare_results

    result = phased[1].result
    plain = result.model_copy(update={"phasing": None})
    diff = compare_results(plain, result, 1, 2)
    assert diff["extras"] == ["first_shortage"]
    expected = {r.statcode: r.first_shortage for r in result.phasing.per_gemeente}
    assert {r["statcode"]: r["first_shortage_b"] for r in diff["per_gemeente"]} == expected
    assert all(r["first_shortage_a"] is None for r in diff["per_gemeente"])
    assert diff["totals"]["first_shortage_b"] == result.phasing.totals.first_shortage
