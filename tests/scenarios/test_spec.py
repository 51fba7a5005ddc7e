"""Scenario specs: presets, every problem listed at once, nothing stored on error, versions."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

import scenarios
from scenarios.errors import SpecError, format_loc
from tests.helpers import run_context

TABLES = (
    "scenario_specs",
    "scenario_runs",
    "scenario_rasters",
    "layers",
    "layer_versions",
    "features",
)
PRESETS = (
    "pbl-2023-bedrijventerreinen-40",
    "ruimte-voor-economie-industrie-10",
    "ruimte-voor-economie-industrie-15",
)


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def invalid_spec() -> dict:
    """A spec with every kind of problem the issue names, at once."""
    spec = scenarios.load_preset("pbl-2023-bedrijventerreinen-40").as_dict()
    spec["name"] = "alles-fout"
    spec["base_year"], spec["horizon_year"] = 2030, 2025
    spec["allocation"]["cell_size_m"] = 0
    spec["allocation"]["criteria"][0]["weight"] = -1
    spec["constraints"]["exclude"].append({"layer": "bestaat_niet"})
    return spec


def test_the_three_presets_are_shipped_and_valid():
    assert [p["name"] for p in scenarios.list_presets()] == list(PRESETS)
    growth = {name: scenarios.load_preset(name).demand.categories[0].growth_pct for name in PRESETS}
    assert growth == {PRESETS[0]: 40, PRESETS[1]: 10, PRESETS[2]: 15}
    industrie = scenarios.load_preset(PRESETS[1]).demand.categories[0]
    assert industrie.select.hmc is True
    for p in scenarios.list_presets():
        desc = p["description"]
        assert "PBL" in desc and ("MTS" in desc or "Middellangetermijnstrategie" in desc)
    assert "niet teruggevonden" in scenarios.list_presets()[1]["description"]


def test_invalid_spec_lists_every_problem_and_stores_nothing(demo_db):
    before = counts(demo_db.engine)
    with pytest.raises(SpecError) as info:
        scenarios.run_scenario(demo_db.engine, invalid_spec(), run_context())
    problems = {format_loc(p["loc"]): p["msg"] for p in info.value.problems}
    assert "horizon_year" in problems and "after the base year" in problems["horizon_year"]
    assert "allocation.cell_size_m" in problems
    assert "greater than or equal to 0" in problems["allocation.criteria[0].weight"]
    assert problems["constraints.exclude[4].layer"] == "unknown layer 'bestaat_niet'"
    assert len(problems) == 4
    assert counts(demo_db.engine) == before


def test_unknown_preset_is_a_spec_error(demo_db):
    before = counts(demo_db.engine)
    with pytest.raises(
        SpecError, match="unknown preset or saved spec 'pbl-2023-bedrijventerreinen-41'"
    ):
        scenarios.run_scenario(demo_db.engine, "pbl-2023-bedrijventerreinen-41", run_context())
    with pytest.raises(SpecError) as info:
        scenarios.load_preset("nope")
    assert info.value.problems == [{"loc": ["preset"], "msg": info.value.problems[0]["msg"]}]
    assert "known presets: pbl-2023-bedrijventerreinen-40" in info.value.problems[0]["msg"]
    assert counts(demo_db.engine) == before


def test_base_preset_with_overrides_and_an_unknown_base_together():
    with pytest.raises(SpecError) as info:
        scenarios.validate_spec(
            {
                "base": "geen-preset",
                "name": "x",
                "base_year": 2025,
                "horizon_year": 2050,
                "demand": {"categories": [{"name": "a", "growth_pct": 10}]},
                "allocation": {"cell_size_m": -5},
                "onbekend": 1,
            }
        )
    locs = [format_loc(p["loc"]) for p in info.value.problems]
    assert locs == ["base", "allocation.cell_size_m", "onbekend"]
    spec = scenarios.validate_spec(
        {
            "base": "pbl-2023-bedrijventerreinen-40",
            "name": "pbl-netto",
            "demand": {"basis": "netto"},
        }
    )
    assert spec.demand.basis == "netto" and spec.demand.categories[0].growth_pct == 40
    assert spec.allocation.cell_size_m == 25


def test_cross_field_and_vocabulary_checks():
    spec = scenarios.load_preset("pbl-2023-bedrijventerreinen-40").as_dict()
    spec["hmc_threshold"] = "4.5"
    spec["regions"] = {"Oost": ["GM0307", "GM0307", "307"]}
    spec["demand"]["categories"][0]["overrides"] = {"West": 20}
    spec["demand"]["categories"][0]["select"] = {"terreintype": ["kantoor"]}
    spec["demand"]["claims"] = [{"region": "Zuid", "ha": 10}]
    spec["allocation"]["criteria"][1]["type"] = "magie"
    spec["allocation"]["unit"] = "region"
    with pytest.raises(SpecError) as info:
        scenarios.validate_spec(spec)
    text_ = "\n".join(info.value.lines)
    for expected in (
        "hmc_threshold: '4.5' is not a milieucategorie",
        "regions.Oost[1]: GM0307 is already in region 'Oost'",
        "regions.Oost[2]: '307' is not a CBS gemeente code",
        "overrides.West: 'West' is neither a gemeente code",
        "select.terreintype[0]: 'kantoor' is not allowed",
        "claims[0].region: unknown region 'Zuid'",
        "criteria[1].type: unknown criterion type 'magie'",
    ):
        assert expected in text_, expected


def test_database_checks_kinds_versions_and_statcodes(demo_db):
    spec = scenarios.load_preset("pbl-2023-bedrijventerreinen-40").as_dict()
    spec["layers"]["bedrijventerreinen"] = "gemeenten"
    spec["layers"]["reserveringen"] = "reserveringen@9"
    spec["demand"]["categories"][0]["overrides"] = {"GM9999": 10}
    spec["constraints"]["exclude"][3]["where"] = {"klasse": ["maanlandschap"], "kleur": ["rood"]}
    with demo_db.engine.connect() as conn, pytest.raises(SpecError) as info:
        scenarios.validate_spec(spec, conn)
    text_ = "\n".join(info.value.lines)
    assert "layers.bedrijventerreinen: layer 'gemeenten' is of kind 'gemeenten'" in text_
    assert "layers.reserveringen: layer 'reserveringen' has no version 9" in text_
    assert "GM9999 is not a gemeente of layer 'gemeenten'" in text_
    assert "'maanlandschap' is not allowed" in text_
    assert "has no field 'kleur'" in text_


def test_saving_makes_versions_only_when_the_content_changes(demo_db):
    spec = scenarios.load_preset("ruimte-voor-economie-industrie-10").as_dict() | {
        "name": "mijn-scenario"
    }
    with demo_db.engine.begin() as conn:
        first = scenarios.save_spec(conn, spec)
        same = scenarios.save_spec(conn, json.loads(json.dumps(spec)))
        spec["demand"]["categories"][0]["growth_pct"] = 12.5
        second = scenarios.save_spec(conn, spec)
        listed = {s.name: s for s in scenarios.list_specs(conn)}
        old = scenarios.get_spec(conn, "mijn-scenario", 1)
    assert (first.version, same.version, second.version) == (1, 1, 2)
    assert listed["mijn-scenario"].version == 2 and listed["mijn-scenario"].versions == 2
    assert old.spec["demand"]["categories"][0]["growth_pct"] == 10
    with demo_db.engine.begin() as conn:
        conn.execute(text("DELETE FROM scenario_specs WHERE name = 'mijn-scenario'"))


def test_spec_error_is_one_message_with_every_line():
    err = SpecError([{"loc": ["a", 0, "b"], "msg": "x"}, {"loc": [], "msg": "y"}])
    assert str(err).splitlines() == [
        "invalid scenario spec: 2 problem(s); nothing was stored",
        "  - a[0].b: x",
        "  - (spec): y",
    ]
    assert err.status == 422
