"""Import profiles, value maps, gemeente columns and no silent defaults, through ``ruimte``.

The files are built here in the shape planners really get them: an IBIS-style export of
bedrijventerreinen, woongebieden in the VNG's wording and reserveringen as a gemeente
exports them.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from sqlalchemy import text

from layers.profiles import ProfileError, load_profile
from tests.helpers import X0, Y0, square, table_counts, write


def flat(output: str) -> str:
    """CLI output with rich's line wrapping undone."""
    return " ".join(output.split())


def stored(db, layer: str) -> list[dict]:
    """The current attributes of a layer's features, in fid order."""
    with db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT f.properties FROM features f JOIN layers l ON l.id = f.layer_id "
                "WHERE l.name = :n AND f.version_to IS NULL ORDER BY f.fid"
            ),
            {"n": layer},
        ).scalars()
        return [dict(r) for r in rows]


def ibis_export(path):
    """Bedrijventerreinen as IBIS exports them: capitals, HA_ columns, codes as text."""
    rows = [
        # gemeente as "0344" and as "344", milieucategorie as text, IBIS planstatus words
        ("Lage Weide", "0344", "4.1", "Bestaand", "Bedrijventerrein", "J"),
        ("Papendorp", "344", "3.2", "in uitvoering", "Bedrijventerrein", "N"),
        ("De Wetering", "0307", "4,2", "gepland", "Zeehaventerrein", "J"),
    ]
    frame = gpd.GeoDataFrame(
        {
            "PLAN_NAAM": [r[0] for r in rows],
            "RIN_NUMMER": ["4711", "4712", "4713"],
            "GEMEENTECODE": [r[1] for r in rows],
            "HA_BRUTO": [20.4, 11.0, 30.0],
            "HA_NETTO": [16.0, 9.0, 25.0],
            "HA_TOTTUIT": [12.0, 9.0, 0.0],
            "HA_UITGEEFBAAR": [4.0, 0.0, 25.0],
            "MAX_MILCAT": [r[2] for r in rows],
            "PLANSTATUS": [r[3] for r in rows],
            "TYPE_WERKL": [r[4] for r in rows],
            "KADE": [r[5] for r in rows],
        },
        geometry=[square(X0 + i * 1000.0, Y0, 450.0) for i in range(3)],
        crs=28992,
    )
    return write(frame, path)


def test_ibis_export_imports_with_the_profile_alone(ruimte, db, tmp_path):
    src = ibis_export(tmp_path / "ibis.gpkg")
    proc = ruimte("layers", "import", src, "--profile", "ibis", "--name", "ibis", check=True)
    assert "imported 3 feature(s)" in flat(proc.stdout)
    assert "kind bedrijventerreinen" in flat(proc.stdout)
    rows = stored(db, "ibis")
    assert [r["gemeente"] for r in rows] == ["GM0344", "GM0344", "GM0307"]
    assert [r["max_milieucategorie"] for r in rows] == ["4.1", "3.2", "4.2"]
    assert [r["planstatus"] for r in rows] == ["bestaand", "in_aanleg", "zachte_plancapaciteit"]
    assert [r["type_werklocatie"] for r in rows] == ["B", "B", "A"]
    assert [r["ontsluiting_water"] for r in rows] == [True, False, True]
    assert [r["bruto_ha"] for r in rows] == [20.4, 11.0, 30.0]
    # The import says which values it mapped: field, source value, target, count, why.
    assert "mapped: planstatus 'in uitvoering' → 'in_aanleg' (1 feature(s), synonym)" in (
        flat(proc.stderr)
    )
    assert "mapped: type_werklocatie 'Bedrijventerrein' → 'B' (2 feature(s), synonym)" in (
        flat(proc.stderr)
    )


def woongebieden(path, omgevingstypen):
    frame = gpd.GeoDataFrame(
        {
            "NAAM": [f"Wijk {i + 1}" for i in range(len(omgevingstypen))],
            "OMGEVINGSTYPE": omgevingstypen,
        },
        geometry=[square(X0 + i * 500.0, Y0 + 3000.0, 300.0) for i in range(len(omgevingstypen))],
        crs=28992,
    )
    return write(frame, path)


def test_vng_woongebieden_import_with_the_profile_alone(ruimte, db, tmp_path):
    src = woongebieden(
        tmp_path / "woon.gpkg",
        ["Rustige woonwijk", "Gemengd gebied", "rustig buitengebied", "gemengd"],
    )
    proc = ruimte(
        "layers", "import", src, "--profile", "vng-woongebieden", "--name", "woon", check=True
    )
    assert "imported 4 feature(s)" in flat(proc.stdout)
    rows = stored(db, "woon")
    assert [r["omgevingstype"] for r in rows] == ["rustig", "gemengd", "rustig", "gemengd"]
    # The profile says explicitly that a woongebieden file holds woongebieden.
    assert {r["category"] for r in rows} == {"woongebied"}
    assert "set to 'woongebied' for all features (profile vng-woongebieden)" in flat(proc.stderr)


def test_unknown_omgevingstype_is_refused_with_feature_field_value(ruimte, db, tmp_path):
    src = woongebieden(tmp_path / "woon.gpkg", ["Rustige woonwijk", "drukke binnenstad"])
    before = table_counts(db)
    proc = ruimte("layers", "import", src, "--profile", "vng-woongebieden", "--name", "woon")
    assert proc.returncode == 1
    assert "nothing was stored" in flat(proc.stderr)
    assert (
        "feature 2 (naam 'Wijk 2'), field omgevingstype: 'drukke binnenstad' is not allowed"
        in flat(proc.stderr)
    )
    assert table_counts(db) == before


def test_unknown_planstatus_is_refused_not_defaulted_and_missing_is_noted(ruimte, db, tmp_path):
    frame = gpd.read_file(ibis_export(tmp_path / "a.gpkg"))
    frame["PLANSTATUS"] = ["bestaand", None, "ergens tussenin"]
    src = write(frame, tmp_path / "b.gpkg")
    proc = ruimte("layers", "import", src, "--profile", "ibis", "--name", "x")
    assert proc.returncode == 1
    assert "field planstatus: 'ergens tussenin' is not allowed" in flat(proc.stderr)
    assert stored(db, "x") == []

    frame["PLANSTATUS"] = ["bestaand", None, "gepland"]
    proc = ruimte(
        "layers", "import", write(frame, tmp_path / "c.gpkg"), "--profile", "ibis",
        "--name", "x", check=True,
    )  # fmt: skip
    assert [r["planstatus"] for r in stored(db, "x")] == [
        "bestaand",
        "bestaand",
        "zachte_plancapaciteit",
    ]
    assert "field planstatus: 1 feature(s) without a value set to 'bestaand'" in flat(proc.stderr)


def test_map_value_maps_one_off_wording_and_refuses_unknown_targets(ruimte, db, tmp_path):
    src = woongebieden(tmp_path / "woon.gpkg", ["stadswijk", "dorp"])
    args = ("layers", "import", src, "--kind", "constraints", "--name", "w")
    proc = ruimte(
        *args,
        "--set", "category=woongebied",
        "--map-value", "omgevingstype:Stadswijk=gemengd",
        "--map-value", "omgevingstype:dorp=rustig",
        check=True,
    )  # fmt: skip
    assert [r["omgevingstype"] for r in stored(db, "w")] == ["gemengd", "rustig"]
    assert "mapped: omgevingstype 'stadswijk' → 'gemengd' (1 feature(s), value map)" in flat(
        proc.stderr
    )

    bad = ruimte(
        "layers", "import", src, "--kind", "constraints", "--name", "w2",
        "--map-value", "omgevingstype:dorp=landelijk",
        "--map-value", "kleur:rood=blauw",
        "--map-value", "oops",
    )  # fmt: skip
    assert bad.returncode == 1 and "FIELD:SOURCE=TARGET" in flat(bad.stderr)
    bad = ruimte(
        "layers", "import", src, "--kind", "constraints", "--name", "w2",
        "--map-value", "omgevingstype:dorp=landelijk",
        "--map-value", "kleur:rood=blauw",
    )  # fmt: skip
    assert bad.returncode == 1
    assert "'landelijk' is not allowed; allowed: rustig, gemengd" in flat(bad.stderr)
    assert "'kleur' is not a field of kind constraints" in flat(bad.stderr)
    assert stored(db, "w2") == []


def gemeenten_layer(ruimte, tmp_path):
    frame = gpd.GeoDataFrame(
        {
            "statcode": ["GM0344", "GM0307", "GM0373", "GM0893"],
            "statnaam": ["Utrecht", "Amersfoort", "Bergen (NH.)", "Bergen (L.)"],
        },
        geometry=[square(X0 + i * 2000.0, Y0 - 5000.0, 1500.0) for i in range(4)],
        crs=28992,
    )
    src = write(frame, tmp_path / "gemeenten.gpkg")
    ruimte("layers", "import", src, "--kind", "gemeenten", "--name", "gemeenten", check=True)


def reserveringen(path, names, codes):
    frame = gpd.GeoDataFrame(
        {
            "naam": [f"Reservering {i + 1}" for i in range(len(names))],
            "gemeente": names,
            "statcode": codes,
            "doel": ["bouwhub"] * len(names),
            "status": ["vastgesteld"] * len(names),
        },
        geometry=[square(X0 + i * 400.0, Y0 + 6000.0, 200.0) for i in range(len(names))],
        crs=28992,
    )
    return write(frame, path)


def test_gemeente_name_column_without_gemeenten_layer_names_both_columns(ruimte, db, tmp_path):
    src = reserveringen(tmp_path / "r.gpkg", ["Utrecht", "Amersfoort"], ["GM0344", "GM0307"])
    proc = ruimte(
        "layers", "import", src, "--kind", "reserveringen", "--name", "r",
        "--map-value", "status:vastgesteld=hard",
    )  # fmt: skip
    assert proc.returncode == 1
    assert (
        "column 'gemeente' (matched by name) holds no valid value for 2 of 2 features, but "
        "column 'statcode' would pass for all of them" in flat(proc.stderr)
    )
    assert "(use --map gemeente=statcode)" in flat(proc.stderr)
    # With the fix the error proposes, it imports.
    ok = ruimte(
        "layers", "import", src, "--kind", "reserveringen", "--name", "r",
        "--map-value", "status:vastgesteld=hard", "--map", "gemeente=statcode", check=True,
    )  # fmt: skip
    assert "imported 2 feature(s)" in flat(ok.stdout)


def test_gemeente_names_resolve_through_the_stored_gemeenten_layer(ruimte, db, tmp_path):
    gemeenten_layer(ruimte, tmp_path)
    src = reserveringen(tmp_path / "r.gpkg", ["Utrecht", " amersfoort "], ["GM0344", "GM0307"])
    proc = ruimte("layers", "import", src, "--kind", "reserveringen", "--name", "r",
                  "--map-value", "status:vastgesteld=hard", check=True)  # fmt: skip
    assert [r["gemeente"] for r in stored(db, "r")] == ["GM0344", "GM0307"]
    assert "gemeente 'Utrecht' → 'GM0344' (1 feature(s), gemeentenaam)" in flat(proc.stderr)

    # The omgevingsplan profile reads the same file (status words included) with no options.
    proc = ruimte("layers", "import", src, "--profile", "omgevingsplan", "--name", "r2",
                  check=True)  # fmt: skip
    assert [(r["gemeente"], r["status"]) for r in stored(db, "r2")] == [
        ("GM0344", "hard"),
        ("GM0307", "hard"),
    ]

    # Ambiguous and unknown names are refused by name; nothing is stored.
    before = table_counts(db)
    bad = reserveringen(tmp_path / "b.gpkg", ["Bergen", "Utreg"], ["GM0373", "GM0344"])
    proc = ruimte("layers", "import", bad, "--kind", "reserveringen", "--name", "r3",
                  "--map-value", "status:vastgesteld=hard")  # fmt: skip
    assert proc.returncode == 1
    assert "'Bergen' is ambiguous: gemeenten GM0373 (Bergen (NH.)), GM0893 (Bergen (L.))" in (
        flat(proc.stderr)
    )
    assert "'Utreg' is neither a CBS gemeente code" in flat(proc.stderr)
    assert "layer 'gemeenten'" in flat(proc.stderr)
    assert table_counts(db) == before


def test_profile_validation_lists_every_problem(ruimte, db, tmp_path):
    path = tmp_path / "mijn-profiel.yaml"
    path.write_text(
        "title: Mijn export\n"
        "kind: bedrijventerreinen\n"
        "colour: red\n"
        "fields:\n  naam: [NAAM]\n  oppervlak: [OPP]\n"
        "values:\n"
        "  planstatus: {klaar: afgerond, bezig: in_aanleg}\n"
        "  max_milieucategorie: {zwaar: '7'}\n"
        "  kleur: {rood: blauw}\n"
        "defaults:\n  ontsluiting_water: misschien\n",
        encoding="utf-8",
    )
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert info.value.problems == ["colour: Extra inputs are not permitted"]

    path.write_text(path.read_text(encoding="utf-8").replace("colour: red\n", ""), "utf-8")
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    problems = info.value.problems
    assert len(problems) == 5, problems
    joined = "\n".join(problems)
    assert "fields: 'oppervlak' is not a field of kind bedrijventerreinen" in joined
    assert "values: 'kleur' is not a field" in joined
    assert "values: planstatus: 'klaar' → 'afgerond' is not allowed" in joined
    assert "values: max_milieucategorie: 'zwaar' → '7' is not a milieucategorie" in joined
    assert "defaults: ontsluiting_water: 'misschien' is not a yes/no value" in joined
    # The CLI lists them all too, before reading the file or touching the database.
    proc = ruimte("layers", "import", tmp_path / "none.gpkg", "--profile", path, "--name", "x")
    assert proc.returncode == 1 and "5 problem(s)" in flat(proc.stderr)
    assert "'oppervlak' is not a field" in flat(proc.stderr) and "'misschien'" in flat(proc.stderr)


def test_profile_for_another_kind_and_unknown_profile_are_refused(ruimte, db, tmp_path):
    src = ibis_export(tmp_path / "ibis.gpkg")
    proc = ruimte("layers", "import", src, "--kind", "constraints", "--profile", "ibis",
                  "--name", "x")  # fmt: skip
    assert proc.returncode == 1
    assert "the profile is for kind bedrijventerreinen, not constraints" in flat(proc.stderr)
    proc = ruimte("layers", "import", src, "--profile", "ibiss", "--name", "x")
    assert proc.returncode == 1 and "shipped profiles: ibis, omgevingsplan" in flat(proc.stderr)


def test_shipped_profiles_are_valid():
    for name in ("ibis", "vng-woongebieden", "omgevingsplan"):
        profile = load_profile(name)
        assert profile.name == name
    assert json.dumps(load_profile("ibis").model_dump(), ensure_ascii=False)
