"""Bandwidths and ensembles: seeded variants, their bands, 1 sample = the plain run, any
scheduler the same (issue 16, item 1)."""

from __future__ import annotations

import copy
import io

import numpy as np
import pytest
import rasterio
from scipy.stats import qmc, spearmanr

import scenarios
from app.runs import run_context
from app.settings import PlanningSettings
from layers.milieucategorie import load_table
from scenarios.chunked import close_cluster_clients, cluster_client
from scenarios.compute import compute
from scenarios.engine import InMemory
from scenarios.ensemble import run_ensemble
from scenarios.errors import SpecError
from scenarios.runner import read_inputs, resolve_spec
from scenarios.validation import validate_spec

PRESET = "pbl-2023-bedrijventerreinen-40"
PROVINCE = ("PV26", "Provincie Utrecht")


def _spec(cell_size: float = 250, **ensemble) -> dict:
    raw = copy.deepcopy(scenarios.load_preset(PRESET).as_dict())
    raw["name"] = "bandbreedte"
    raw["allocation"]["cell_size_m"] = cell_size
    raw["demand"]["categories"][0]["growth_pct"] = {"min": 10, "max": 15}
    raw["ensemble"] = {"samples": 50, "seed": 2016, **ensemble}
    return raw


def _context():
    return run_context(PlanningSettings(_env_file=None), engine=InMemory())


def _read(tiff: bytes) -> tuple[np.ndarray, float]:
    with rasterio.open(io.BytesIO(tiff)) as src:
        return src.read(1), src.nodata


def test_bands_equal_an_independent_computation_of_the_seeded_samples(demo_db):
    run = scenarios.run_scenario(demo_db.engine, _spec(), _context())
    result = run.result.as_json()
    ens = result["ensemble"]
    # the same draws, made here with scipy and numpy only
    growth = 10 + qmc.LatinHypercube(d=1, seed=2016).random(50)[:, 0] * 5
    assert ens["inputs"][0]["input"] == "demand.categories[0].growth_pct"
    assert np.allclose(ens["inputs"][0]["values"], growth, atol=1e-6)
    # the base run is the middle of the range: demand = current × 12.5 %
    for row in result["per_gemeente"]:
        assert row["demand_ha"] == pytest.approx(row["current_ha"] * 0.125, abs=0.01)
    rows = {r["statcode"]: r for r in ens["per_gemeente"]}
    for row in result["per_gemeente"]:
        demand = row["current_ha"] * growth / 100
        p10, p50, p90 = np.percentile(demand, [10, 50, 90])
        band = rows[row["statcode"]]["demand_ha"]
        assert band["p10"] == pytest.approx(p10, abs=0.01)
        assert band["p50"] == pytest.approx(p50, abs=0.01)
        assert band["p90"] == pytest.approx(p90, abs=0.01)
        # supply does not depend on growth; balance = supply - demand in every variant
        supply = rows[row["statcode"]]["supply_ha"]
        assert supply["p10"] == pytest.approx(row["supply_ha"], abs=0.01) == supply["p90"]
        balance = np.percentile(row["supply_ha"] - demand, [10, 50, 90])
        assert rows[row["statcode"]]["balance_ha"]["p50"] == pytest.approx(balance[1], abs=0.01)
    total = result["totals"]["current_ha"] * growth / 100
    assert ens["totals"]["demand_ha"]["p90"] == pytest.approx(np.percentile(total, 90), abs=0.01)
    # more growth, less balance: the only input has a rank correlation of -1
    assert ens["totals"]["most_important"] == {
        "input": "demand.categories[0].growth_pct",
        "rho": -1.0,
    }
    assert spearmanr(growth, -total).statistic == pytest.approx(-1.0)
    assert 0 <= ens["totals"]["p_shortage"] <= 1
    # the frequency raster: shares of 50 variants, on the allocation's grid and nodata
    share, nodata = _read(scenarios.get_run_raster(demo_db.engine.connect(), run.id, "frequentie"))
    alloc, alloc_nodata = _read(
        scenarios.get_run_raster(demo_db.engine.connect(), run.id, "allocation")
    )
    assert share.shape == alloc.shape
    assert np.array_equal(share == nodata, alloc == alloc_nodata)
    inside = share[share != nodata]
    assert inside.max() <= 1 and np.allclose(inside * 50, np.round(inside * 50), atol=1e-4)
    robust = np.count_nonzero(inside >= 0.8)
    cell_ha = result["allocation"]["grid"]["cell_ha"]
    assert ens["totals"]["robust_ha"] == pytest.approx(robust * cell_ha, abs=0.01)
    assert sum(r["robust_ha"] for r in ens["per_gemeente"]) == pytest.approx(
        ens["totals"]["robust_ha"], abs=0.01
    )


def _computed(engine, raw: dict):
    with engine.connect() as conn:
        spec = resolve_spec(conn, raw)
        inputs = read_inputs(conn, spec)
    comp = compute(spec, inputs, load_table(), province=PROVINCE, engine=InMemory())
    return spec, inputs, comp


def test_one_sample_equals_the_plain_run_of_its_value(demo_db):
    spec, inputs, base = _computed(demo_db.engine, _spec(cell_size=200, samples=1))
    part, rasters, _ = run_ensemble(
        spec, inputs, load_table(), base, province=PROVINCE, defaults=_context().figures
    )
    value = part["inputs"][0]["values"][0]
    plain_raw = _spec(cell_size=200)
    plain_raw["demand"]["categories"][0]["growth_pct"] = value
    del plain_raw["ensemble"]
    _, _, plain = _computed(demo_db.engine, plain_raw)
    rows = {r.statcode: r for r in plain.result.per_gemeente}
    for row in part["per_gemeente"]:
        for name in ("demand_ha", "supply_ha", "balance_ha", "uncovered_ha", "unmet_ha"):
            band = row[name]
            expected = rows[row["statcode"]].figure(name) or 0.0
            assert band["p10"] == band["p50"] == band["p90"] == pytest.approx(expected, abs=1e-6)
    share, nodata = _read(rasters["frequentie"][0])
    alloc, alloc_nodata = _read(plain.rasters["allocation"][0])
    assert np.array_equal(share == nodata, alloc == alloc_nodata)
    assert np.array_equal(share == 1.0, (alloc == 1) | (alloc == 2))


def test_an_ensemble_of_one_without_distributions_is_the_plain_run(demo_db):
    raw = _spec(cell_size=200, samples=1)
    raw["demand"]["categories"][0]["growth_pct"] = 40
    plain_raw = copy.deepcopy(raw)
    del plain_raw["ensemble"]
    _, _, plain = _computed(demo_db.engine, plain_raw)
    _, _, with_ensemble = _computed(demo_db.engine, raw)
    assert with_ensemble.result.as_json() == plain.result.as_json()
    assert with_ensemble.rasters == plain.rasters


def test_the_same_seed_gives_the_same_ensemble_on_threads_and_on_a_local_cluster(demo_db):
    distributed = pytest.importorskip("distributed")
    raw = _spec(cell_size=300, samples=6, seed=11)
    raw["allocation"]["criteria"][0]["weight"] = {"min": 0.5, "mode": 1, "max": 3}
    spec, inputs, base = _computed(demo_db.engine, raw)
    here = run_ensemble(
        spec, inputs, load_table(), base, province=PROVINCE, defaults=_context().figures
    )
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        there = run_ensemble(
            spec,
            inputs,
            load_table(),
            base,
            province=PROVINCE,
            defaults=_context().figures,
            scheduler=cluster.scheduler_address,
        )
        close_cluster_clients()
    assert here[0] == there[0]
    assert here[1] == there[1]
    assert len(here[0]["inputs"]) == 2


@pytest.mark.parametrize(
    ("change", "loc", "words"),
    [
        ({"growth_pct": {"min": 20, "max": 15}}, "growth_pct", "must not be above max"),
        ({"growth_pct": {"min": 1, "mode": 30, "max": 15}}, "growth_pct", "mode (30)"),
        ({"growth_pct": {"min": -300, "max": 15}}, "growth_pct", "greater than or equal"),
        ({"growth_pct": []}, "growth_pct", "valid number"),
    ],
)
def test_bad_distributions_are_spec_errors_naming_the_path(change, loc, words):
    raw = _spec()
    raw["demand"]["categories"][0].update(change)
    with pytest.raises(SpecError) as err:
        validate_spec(raw)
    text = str(err.value)
    assert f"demand.categories[0].{loc}" in text and words in text
    assert text.count(f"demand.categories[0].{loc}:") == 1


def test_a_distribution_needs_an_ensemble_and_some_numbers_may_not_vary():
    raw = _spec()
    del raw["ensemble"]
    with pytest.raises(SpecError, match=r"growth_pct: a distribution needs an ensemble"):
        validate_spec(raw)
    raw = _spec()
    raw["allocation"]["cell_size_m"] = {"min": 25, "max": 50}
    with pytest.raises(SpecError, match=r"cell_size_m may not vary"):
        validate_spec(raw)
    raw = _spec(method="sobol")
    with pytest.raises(SpecError, match=r"ensemble.method"):
        validate_spec(raw)
    raw = _spec(distributions={"demand.categories[3].growth_pct": {"min": 1, "max": 2}})
    with pytest.raises(SpecError, match=r"names no number of the spec"):
        validate_spec(raw)
    raw = _spec()  # computed for the base run only: a distribution would change nothing
    raw["coverage"] = {"types": {"bouwhub": {"reach_km": {"min": 10, "max": 30}}}}
    with pytest.raises(
        SpecError, match=r"reach_km may not vary: coverage is computed for the base"
    ):
        validate_spec(raw)
    raw = _spec()
    raw["phasing"] = {
        "milestones": [2030, 2050],
        "demand_path": {"2030": {"min": 0.2, "max": 0.4}, "2050": 1},
    }
    with pytest.raises(SpecError, match=r"phasing\.demand_path.*2030"):  # an error, never silent
        validate_spec(raw)


def test_lists_where_the_spec_wants_lists_are_not_distributions():
    raw = _spec()
    raw["regions"] = {"Regio Foodvalley": ["GM0345", "GM0352"]}
    spec = validate_spec(raw)
    assert list(spec.ensemble.distributions) == ["demand.categories[0].growth_pct"]
    assert spec.regions == {"Regio Foodvalley": ["GM0345", "GM0352"]}
    # what is stored validates to the same spec (the distributions stay in the ensemble)
    assert validate_spec(spec.as_dict()) == spec


def test_a_shared_surface_gives_the_figures_and_raster_of_fresh_runs(demo_db):
    """Only demand varies: the surface is computed once per process (sequentially and on each
    worker of a 2-worker LocalCluster), with the same bands and frequency raster as variants
    that each compute their own."""
    distributed = pytest.importorskip("distributed")
    from scenarios.ensemble import _SHARED, shares_surface

    spec, inputs, base = _computed(demo_db.engine, _spec(cell_size=300, samples=6, seed=3))
    assert spec.ensemble is not None and shares_surface(spec.ensemble)
    kwargs = {"province": PROVINCE, "defaults": _context().figures}
    fresh = run_ensemble(spec, inputs, load_table(), base, share_surface=False, **kwargs)
    shared = run_ensemble(spec, inputs, load_table(), base, **kwargs)
    assert shared[0] == fresh[0] and shared[1] == fresh[1]
    assert _SHARED == []  # released at the end of the ensemble
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        there = run_ensemble(
            spec, inputs, load_table(), base, scheduler=cluster.scheduler_address, **kwargs
        )
        held = cluster_client(cluster.scheduler_address).run(
            lambda: len(__import__("scenarios.ensemble").ensemble._SHARED)
        )
        close_cluster_clients()
    assert there[0] == fresh[0] and there[1] == fresh[1]
    assert set(held.values()) == {0}  # every worker let go of its surface


def test_a_varying_criterion_weight_does_not_share_the_surface():
    from scenarios.ensemble import shares_surface
    from scenarios.spec import Ensemble

    ens = Ensemble.model_validate(
        {
            "samples": 2,
            "seed": 1,
            "distributions": {
                "demand.categories[0].growth_pct": {"min": 1, "max": 2},
                "allocation.criteria[0].weight": {"min": 1, "max": 2},
            },
        }
    )
    assert not shares_surface(ens)
