"""The computation on a small made-up world, figures worked out by hand (no database)."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pandas as pd
import pytest
import shapely

from layers.milieucategorie import load_table
from scenarios.allocation import NEW_HMC, NEW_OTHER, cells_needed
from scenarios.compute import compute, compute_figures
from scenarios.inputs import Inputs, LayerData
from scenarios.spec import ScenarioSpec
from spatial.grid import Grid

X, Y = 130_000.0, 450_000.0
TABLE = load_table()
PROVINCE = ("PV99", "Provincie Proef")


def box(x0, y0, x1, y1):
    return shapely.box(X + x0, Y + y0, X + x1, Y + y1)


def world(**extra_layers) -> Inputs:
    """Two 2 × 2 km gemeenten; an HMC terrein (8 ha) across their border, a 9 ha terrein in A."""
    gemeenten = LayerData(
        "gemeenten",
        "gemeenten",
        1,
        np.array([box(0, 0, 2000, 2000), box(2000, 0, 4000, 2000)]),
        pd.DataFrame({"statcode": ["GM0001", "GM0002"], "naam": ["A", "B"]}),
    )
    terreinen = LayerData(
        "bedrijventerreinen",
        "bedrijventerreinen",
        3,
        np.array([box(1800, 900, 2200, 1100), box(200, 200, 500, 500)]),
        pd.DataFrame(
            {
                "naam": ["Grens", "West"],
                "gemeente": ["GM0001", "GM0001"],
                "bruto_ha": [8.0, 9.0],  # the polygon areas
                "netto_ha": [6.0, 7.0],
                "uitgegeven_ha": [5.0, 7.0],
                "uitgeefbaar_ha": [1.0, 0.0],
                "max_milieucategorie": ["4.2", "3.1"],
                "type_werklocatie": ["B", "B"],
                "terreintype": [None, None],
                "planstatus": ["bestaand", "bestaand"],
            }
        ),
    )
    woon = LayerData(
        "woon",
        "constraints",
        1,
        np.array([box(3500, 1500, 3900, 1900), box(100, 1500, 400, 1900)]),
        pd.DataFrame(
            {
                "naam": ["Oost", "West"],
                "category": ["woongebied"] * 2,
                "omgevingstype": ["rustig", "gemengd"],
            }
        ),
    )
    layers = {"gemeenten": gemeenten, "bedrijventerreinen": terreinen, "woon": woon, **extra_layers}
    return Inputs(layers=layers, gemeenten="gemeenten", bedrijventerreinen="bedrijventerreinen")


def spec(**changes) -> ScenarioSpec:
    data = {
        "name": "toy",
        "base_year": 2025,
        "horizon_year": 2050,
        "demand": {"basis": "bruto", "categories": [{"name": "alle", "growth_pct": 50}]},
        "supply": {
            "reserveringen": {"hard": 0, "zacht": 0},
            "strategische_locaties": {"weight": 0},
        },
        "constraints": {
            "exclude": [{"layer": "woon"}],
            "hmc_richtafstand": {"layers": [{"layer": "woon"}]},
        },
        "allocation": {
            "cell_size_m": 50,
            "criteria": [
                {
                    "name": "nabij",
                    "type": "proximity",
                    "weight": 1,
                    "max_distance_m": 2000,
                    "layers": ["bedrijventerreinen"],
                },
            ],
        },
        "milieuzonering": {"conflict_layers": [{"layer": "woon"}]},
    }
    for key, value in changes.items():
        data[key] = value
    return ScenarioSpec.model_validate(data)


@pytest.fixture(scope="module")
def toy():
    return compute(spec(), world(), TABLE, province=PROVINCE)


def test_current_is_split_by_area_and_demand_is_growth_times_current(toy):
    a, b = toy.result.as_json()["per_gemeente"]
    assert (a["current_ha"], b["current_ha"]) == pytest.approx((9 + 4, 4))
    assert (a["current_netto_ha"], b["current_netto_ha"]) == pytest.approx((7 + 3, 3))
    assert (a["hmc_current_ha"], b["hmc_current_ha"]) == pytest.approx((4, 4))
    assert (a["demand_ha"], b["demand_ha"]) == pytest.approx((6.5, 2))
    assert (a["hmc_demand_ha"], b["hmc_demand_ha"]) == pytest.approx((2, 2))


def test_netto_supply_is_converted_to_the_bruto_basis(toy):
    ratio = toy.result.as_json()["netto_bruto_ratio"]
    assert ratio == pytest.approx(13 / 17)
    a, b = toy.result.as_json()["per_gemeente"]
    assert a["supply_uitgeefbaar_ha"] == pytest.approx(0.5 / ratio)
    assert a["hmc_supply_ha"] == pytest.approx(
        0.5 / ratio
    )  # the uitgeefbaar ha are on the HMC terrein
    # HMC supply is protected: A's other demand (4.5) has no other supply
    assert a["uncovered_ha"] == pytest.approx(2 - 0.5 / ratio + 4.5)
    assert a["allocated_ha"] + a["unmet_ha"] == pytest.approx(a["uncovered_ha"])


def test_new_hmc_cells_keep_the_richtafstand_and_no_cell_touches_excluded_or_existing(toy):
    s = toy.result.as_json()["allocation"]["grid"]
    grid = Grid(s["origin"][0], s["origin"][1], s["cell_size_m"], s["rows"], s["cols"])
    from rasterio.io import MemoryFile

    with MemoryFile(toy.rasters["allocation"][0]) as mem, mem.open() as ds:
        classes = ds.read(1)
    hmc = grid.cell_boxes(np.flatnonzero(classes.ravel() == NEW_HMC))
    other = grid.cell_boxes(np.flatnonzero(classes.ravel() == NEW_OTHER))
    inputs = world()
    woon = inputs.layers["woon"].geometries
    assert (
        len(hmc)
        == cells_needed(
            np.array([toy.result.as_json()["per_gemeente"][0]["hmc_uncovered_ha"]]), 0.25
        )[0]
        + cells_needed(
            np.array([toy.result.as_json()["per_gemeente"][1]["hmc_uncovered_ha"]]), 0.25
        )[0]
    )
    assert shapely.distance(hmc[:, None], woon[None, :])[:, 0].min() >= TABLE.richtafstand(
        "4", "rustig"
    )
    assert shapely.distance(hmc[:, None], woon[None, :])[:, 1].min() >= TABLE.richtafstand(
        "4", "gemengd"
    )
    taken = shapely.union_all([*woon, *inputs.layers["bedrijventerreinen"].geometries])
    assert shapely.area(shapely.intersection(shapely.union_all([*hmc, *other]), taken)) == 0


def test_allocation_prefers_suitable_cells_and_breaks_ties_by_position():
    flat = compute(
        spec(allocation={"cell_size_m": 100, "criteria": []}), world(), TABLE, province=PROVINCE
    )
    s = flat.result.as_json()["allocation"]["grid"]
    grid = Grid(s["origin"][0], s["origin"][1], s["cell_size_m"], s["rows"], s["cols"])
    from rasterio.io import MemoryFile

    with MemoryFile(flat.rasters["allocation"][0]) as mem, mem.open() as ds:
        classes = ds.read(1)
    with MemoryFile(flat.rasters["constraints"][0]) as mem, mem.open() as ds:
        constraints = ds.read(1)
    # gemeente A, other demand: with equal suitability the first free cells in reading order
    free_a = [
        i for i in range(grid.size) if constraints.ravel()[i] in (0, 3) and i % grid.cols < 20
    ]
    taken_a = [
        i for i in range(grid.size) if classes.ravel()[i] == NEW_OTHER and i % grid.cols < 20
    ]
    assert taken_a == [i for i in free_a if classes.ravel()[i] != NEW_HMC][: len(taken_a)]
    near = compute(spec(), world(), TABLE, province=PROVINCE)
    assert near.result.as_json()["allocation"]["allocated_cells"] > 0
    d_near = _mean_distance(near, world())
    d_flat = _mean_distance(flat, world())
    assert d_near < d_flat


def _mean_distance(comp, inputs) -> float:
    from rasterio.io import MemoryFile

    s = comp.result.as_json()["allocation"]["grid"]
    grid = Grid(s["origin"][0], s["origin"][1], s["cell_size_m"], s["rows"], s["cols"])
    with MemoryFile(comp.rasters["allocation"][0]) as mem, mem.open() as ds:
        cells = grid.cell_boxes(np.flatnonzero(np.isin(ds.read(1).ravel(), [NEW_HMC, NEW_OTHER])))
    return float(
        shapely.distance(
            cells, shapely.union_all(inputs.layers["bedrijventerreinen"].geometries)
        ).mean()
    )


def test_same_inputs_same_outputs():
    a, b = (
        compute(spec(), world(), TABLE, province=PROVINCE),
        compute(spec(), world(), TABLE, province=PROVINCE),
    )
    assert a.result.as_json() == b.result.as_json()
    assert {k: v[0] for k, v in a.rasters.items()} == {k: v[0] for k, v in b.rasters.items()}


def test_overrides_claims_and_regions():
    s = spec(
        regions={"Samen": ["GM0001", "GM0002"]},
        demand={
            "basis": "bruto",
            "categories": [
                {"name": "alle", "growth_pct": 50, "overrides": {"GM0002": 100}},
                {
                    "name": "hmc",
                    "growth_pct": 10,
                    "select": {"hmc": True},
                    "overrides": {"Samen": 0},
                },
            ],
            "claims": [{"region": "Samen", "ha": 17, "hmc": True}, {"gemeente": "GM0001", "ha": 1}],
        },
        allocation={"cell_size_m": 50, "unit": "region", "criteria": []},
    )
    comp = compute(s, world(), TABLE, province=PROVINCE)
    a, b = comp.result.as_json()["per_gemeente"]
    assert a["demand_alle_ha"] == pytest.approx(6.5) and b["demand_alle_ha"] == pytest.approx(4.0)
    assert a["demand_hmc_ha"] == 0 and b["demand_hmc_ha"] == 0
    # the region claim is shared by current ha (13 : 4)
    assert a["claims_demand_ha"] == pytest.approx(17 * 13 / 17 + 1) and b[
        "claims_demand_ha"
    ] == pytest.approx(4)
    (region,) = comp.result.as_json()["regions"]
    assert region["region"] == "Samen" and region["gemeenten"] == ["GM0001", "GM0002"]
    assert region["allocated_ha"] + region["unmet_ha"] == pytest.approx(region["uncovered_ha"])
    assert a["unmet_ha"] is None  # per gemeente not defined when allocating per region
    totals = comp.result.as_json()["totals"]
    assert totals["uncovered_ha"] == pytest.approx(region["uncovered_ha"])
    assert a["allocated_ha"] + b["allocated_ha"] == pytest.approx(region["allocated_ha"])


def test_milieuzonering_conflicts_by_omgevingstype(toy):
    z = toy.result.as_json()["milieuzonering"]
    assert z["terreinen_with_zone"] == 1  # only the HMC terrein
    # the HMC terrein (4.2: 300 m rustig, 200 m gemengd) is > 1.3 km from both woongebieden
    assert z["conflicts"] == 0
    near = world()
    near.layers["woon"].geometries[0] = box(
        2250, 900, 2400, 1000
    )  # 50 m east of the terrein, rustig
    comp = compute(spec(), near, TABLE, province=PROVINCE)
    (conflict,) = comp.layers["conflicten"].frame.to_dict(orient="records")
    assert conflict["afstand_m"] == pytest.approx(50) and conflict["richtafstand_m"] == 300
    assert conflict["overlap_ha"] == pytest.approx(150 * 100 / 10_000)


@pytest.mark.parametrize(
    "module",
    [
        "scenarios.allocation",
        "scenarios.balance",
        "scenarios.criteria",
        "scenarios.current",
        "scenarios.demand",
        "scenarios.indicators",
        "scenarios.supply",
        "scenarios.validation",
        "spatial.grid",
        "spatial.overlay",
        "spatial.raster",
    ],
)
def test_docstring_examples(module):
    failed, _ = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert failed == 0


# -- issue 10: bruto from IBIS, attribution, computed totals, unknown values ----------


def ibis_world(**props) -> Inputs:
    """The toy world with the Grens terrein's bruto_ha 10% above its 8 ha polygon."""
    inputs = world()
    terreinen = inputs.layers["bedrijventerreinen"]
    terreinen.properties["bruto_ha"] = [8.8, 9.0]
    for key, values in props.items():
        terreinen.properties[key] = values
    return inputs


@pytest.mark.parametrize(
    "choice, a, b",
    [
        ({}, 0.5 * 8.8 + 9, 0.5 * 8.8),
        ({"bruto_source": "geometry"}, 4 + 9, 4),
        ({"attribution": "attribute"}, 8.8 + 9, 0.0),
        ({"bruto_source": "geometry", "attribution": "attribute"}, 8 + 9, 0.0),
    ],
)
def test_bruto_source_and_attribution(choice, a, b):
    result = compute_figures(
        spec(**choice), ibis_world(), TABLE, province=PROVINCE
    ).result.as_json()
    ra, rb = result["per_gemeente"]
    assert (ra["current_ha"], rb["current_ha"]) == pytest.approx((a, b))
    assert (ra["hmc_current_ha"], rb["hmc_current_ha"]) == pytest.approx((a - 9, b))
    assert (ra["demand_ha"], rb["demand_ha"]) == pytest.approx((0.5 * a, 0.5 * b))
    netto_a = 7 + (6 if choice.get("attribution") == "attribute" else 3)
    assert ra["current_netto_ha"] == pytest.approx(netto_a)
    assert result["figures"]["bruto_source"] == choice.get("bruto_source", "attribute")
    assert result["figures"]["bruto_source_from"] == (
        "spec" if "bruto_source" in choice else "settings"
    )


def test_settings_choose_where_the_spec_does_not():
    from scenarios.current import FigureDefaults

    defaults = FigureDefaults(bruto_source="geometry", attribution="attribute")
    result = compute_figures(
        spec(), ibis_world(), TABLE, province=PROVINCE, defaults=defaults
    ).result.as_json()
    assert [r["current_ha"] for r in result["per_gemeente"]] == pytest.approx([17, 0])
    assert result["figures"] == {
        "bruto_source": "geometry",
        "bruto_source_from": "settings",
        "attribution": "attribute",
        "attribution_from": "settings",
    }


def test_province_counts_a_terrein_across_a_border_once(toy):
    rows, totals = toy.result.as_json()["per_gemeente"], toy.result.as_json()["totals"]
    assert [r["terreinen"] for r in rows] == [2, 1]
    assert totals["terreinen"] == 2
    assert "distinct" in totals["counts"]["terreinen"] and totals["counts"]["gemeenten"] == 2
    regional = compute(
        spec(regions={"Alles": ["GM0001", "GM0002"]}), world(), TABLE, province=PROVINCE
    )
    (region,) = regional.result.as_json()["regions"]
    assert region["terreinen"] == 2 and region["counts"]["gemeenten"] == 2


def test_run_quality_report_lists_terreinen_over_the_tolerance_and_across_borders():
    quality = compute_figures(spec(), ibis_world(), TABLE, province=PROVINCE).result.as_json()[
        "quality"
    ]
    report = quality["terreinen"]
    assert report["bruto_area"]["count"] == 1
    (over,) = report["bruto_area"]["terreinen"]
    assert (over["naam"], over["bruto_ha"], over["area_ha"]) == ("Grens", 8.8, pytest.approx(8.0))
    assert over["difference_pct"] == pytest.approx(10.0)
    (crossing,) = report["borders"]["terreinen"]
    assert crossing["naam"] == "Grens"
    assert [(s["statcode"], s["share"]) for s in crossing["shares"]] == [
        ("GM0001", pytest.approx(0.5)),
        ("GM0002", pytest.approx(0.5)),
    ]
    assert quality["not_counted"] == [] and quality["unknown_values"] == []


def test_a_terrein_coded_for_a_gemeente_outside_the_run_is_reported_not_counted():
    inputs = ibis_world(gemeente=["GM0001", "GM0999"])
    result = compute_figures(
        spec(attribution="attribute"), inputs, TABLE, province=PROVINCE
    ).result.as_json()
    assert [r["current_ha"] for r in result["per_gemeente"]] == pytest.approx([8.8, 0])
    (left,) = result["quality"]["not_counted"]
    assert left["naam"] == "West" and "GM0999" in left["reason"]


def test_an_unknown_omgevingstype_fails_the_run_naming_layer_feature_and_value():
    from scenarios.values import UnknownValues

    inputs = world()
    inputs.layers["woon"].properties["omgevingstype"] = ["rustig", "stedelijk"]
    with pytest.raises(UnknownValues) as info:
        compute(spec(), inputs, TABLE, province=PROVINCE)
    (problem,) = info.value.problems
    assert (problem["layer"], problem["fid"], problem["field"], problem["value"]) == (
        "woon",
        2,
        "omgevingstype",
        "stedelijk",
    )
    assert "woon" in info.value.message and "'stedelijk'" in info.value.message
    assert "naam 'West'" in info.value.message and info.value.status == 422


def test_a_default_named_in_the_spec_counts_the_unknown_value_and_says_so():
    inputs = world()
    inputs.layers["woon"].properties["omgevingstype"] = ["rustig", "stedelijk"]
    named = compute(
        spec(unknown_values={"woon": {"omgevingstype": "gemengd"}}),
        inputs,
        TABLE,
        province=PROVINCE,
    )
    assert named.result.as_json()["quality"]["unknown_values"] == [
        {
            "layer": "woon",
            "field": "omgevingstype",
            "value": "stedelijk",
            "counted_as": "gemengd",
            "features": 1,
        }
    ]
    plain = compute(spec(), world(), TABLE, province=PROVINCE)  # West is gemengd there
    assert named.result.as_json()["per_gemeente"] == plain.result.as_json()["per_gemeente"]


@pytest.mark.parametrize(
    "layer, column, values",
    [
        ("bedrijventerreinen", "max_milieucategorie", ["4.2", "zwaar"]),
        ("bedrijventerreinen", "max_milieucategorie", ["4.2", None]),
        ("bedrijventerreinen", "bruto_ha", [8.0, None]),
    ],
)
def test_unknown_or_missing_values_the_run_needs_fail_it(layer, column, values):
    from scenarios.values import UnknownValues

    inputs = world()
    inputs.layers[layer].properties[column] = values
    if column != "bruto_ha":
        inputs.layers[layer].properties["bruto_ha"] = [8.0, 9.0]
    with pytest.raises(UnknownValues, match=f"field {column}"):
        compute_figures(spec(), inputs, TABLE, province=PROVINCE)
