"""Attribute validation against kinds (no database needed)."""

import pandas as pd
import pytest

from layers.kinds import UnknownKind, load_kinds, resolve_columns, validate_attributes

KINDS = load_kinds()


def bt_row(**kw):
    row = {
        "naam": "Lage Weide",
        "gemeente": "GM0344",
        "bruto_ha": 100.0,
        "netto_ha": 80.0,
        "uitgegeven_ha": 70.0,
        "uitgeefbaar_ha": 10.0,
        "max_milieucategorie": "4.2",
    }
    row.update(kw)
    return row


def test_every_kind_named_in_the_issue_exists():
    assert set(KINDS) >= {
        "gemeenten",
        "bedrijventerreinen",
        "strategische_locaties",
        "reserveringen",
        "hoofdstructuur",
        "constraints",
        "landgebruik",
        "vestigingen",
    }


def test_unknown_kind_lists_known():
    with pytest.raises(UnknownKind, match="known kinds: gemeenten"):
        KINDS["nope"]


def test_aliases_and_case_map_columns():
    mapping, extras, problems = resolve_columns(["STATCODE", "statnaam", "id"], KINDS["gemeenten"])
    assert mapping == {"statcode": "STATCODE", "naam": "statnaam"}
    assert extras == ["id"] and problems == []


def test_map_to_missing_column_is_a_problem():
    _, _, problems = resolve_columns(["a"], KINDS["gemeenten"], {"naam": "b", "bogus": "a"})
    messages = " ".join(p.message for p in problems)
    assert "no column 'b'" in messages and "does not have" in messages


def test_valid_row_is_coerced():
    frame = pd.DataFrame(
        [
            bt_row(
                bruto_ha="100,0", max_milieucategorie="4,2", gemeente="344", ontsluiting_water="ja"
            )
        ]
    )
    res = validate_attributes(frame, KINDS["bedrijventerreinen"])
    assert res.problems == []
    row = res.frame.iloc[0]
    assert row["bruto_ha"] == 100.0
    assert row["max_milieucategorie"] == "4.2"
    assert row["gemeente"] == "GM0344"
    assert row["ontsluiting_water"] is True
    assert row["planstatus"] == "bestaand"  # default


def test_every_problem_is_listed():
    frame = pd.DataFrame(
        [
            bt_row(),
            bt_row(bruto_ha=-1.0, max_milieucategorie="7"),
            bt_row(netto_ha=120.0, uitgeefbaar_ha=50.0, gemeente="Utrecht"),
            bt_row(naam=None, type_werklocatie="Q"),
        ]
    )
    res = validate_attributes(frame, KINDS["bedrijventerreinen"])
    got = sorted((p.index, p.field) for p in res.problems)
    assert (1, "bruto_ha") in got
    assert (1, "max_milieucategorie") in got
    assert (2, "netto_ha") in got  # netto > bruto
    assert (2, "gemeente") in got
    assert (3, "naam") in got
    assert (3, "type_werklocatie") in got
    assert all(p.index != 0 for p in res.problems)


def test_uitgeefbaar_must_be_netto_minus_uitgegeven():
    frame = pd.DataFrame([bt_row(uitgeefbaar_ha=2.0)])
    [problem] = validate_attributes(frame, KINDS["bedrijventerreinen"]).problems
    assert (
        problem.field == "netto_ha" and "uitgegeven_ha (70) + uitgeefbaar_ha (2)" in problem.message
    )


def test_missing_required_column_names_map_option():
    res = validate_attributes(pd.DataFrame([{"naam": "x"}]), KINDS["gemeenten"])
    [problem] = res.problems
    assert problem.index is None and "no source column matched" in problem.message
    # The API shows the message: no CLI flags in it; the CLI prints its own hint.
    assert "--" not in problem.message and "--map statcode=COLUMN" in problem.cli_hint


def test_unique_statcode():
    res = validate_attributes(
        pd.DataFrame([{"statcode": "GM0344", "naam": "a"}, {"statcode": "GM0344", "naam": "b"}]),
        KINDS["gemeenten"],
    )
    assert sorted(p.index for p in res.problems) == [0, 1]


def test_extra_fields_kept_typed_or_refused():
    frame = pd.DataFrame(
        [{"statcode": "GM0344", "naam": "Utrecht", "Inwoners": 361_000, "FID": "x"}]
    )
    res = validate_attributes(frame, KINDS["gemeenten"])
    assert res.extra_fields == {"inwoners": "integer", "src_fid": "text"}
    strict = validate_attributes(frame, KINDS["gemeenten"], allow_extra=False)
    assert {p.field for p in strict.problems} == {"Inwoners", "FID"}


def test_reservering_dates_in_order():
    row = {
        "gemeente": "GM0344",
        "doel": "bouwhub",
        "status": "hard",
        "geldig_van": "2030-01-01",
        "geldig_tot": "01-01-2026",
    }
    [problem] = validate_attributes(pd.DataFrame([row]), KINDS["reserveringen"]).problems
    assert problem.field == "geldig_van"


def test_enum_synonym():
    res = validate_attributes(
        pd.DataFrame([{"element": "Schakel", "schaalniveau": "regio"}]), KINDS["hoofdstructuur"]
    )
    assert res.problems == [] and res.frame.iloc[0]["element"] == "knooppunt"


def test_integers_stay_whole_numbers():
    row = {
        "naam": "x",
        "type": "wijk",
        "capaciteit_ha": 1,
        "status": "verkenning",
        "gemeente": "GM0344",
        "beschikbaar_vanaf": 2031.0,
    }
    res = validate_attributes(pd.DataFrame([row]), KINDS["strategische_locaties"])
    value = res.frame.iloc[0]["beschikbaar_vanaf"]
    assert res.problems == [] and value == 2031 and isinstance(value, int)
