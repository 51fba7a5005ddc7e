"""Limits on attribute values and geometries (issue 11.3), shared by imports and API writes."""

import numpy as np
import pandas as pd
import pytest
import shapely

from layers.errors import InvalidFeatures
from layers.importer import ImportPolicy, PrepareOptions, frame_source, prepare
from layers.kinds import AttributeLimits, KindsFileError, load_kinds, validate_attributes

KINDS = load_kinds()


def row(**kw):
    base = {"gemeente": "GM0344", "doel": "bouwhub", "status": "hard"}
    base.update(kw)
    return base


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"x": 1}, "an object"),
        (["a"], "an array"),
        (True, "a yes/no value, not text"),
        ("a\x00b", "NUL byte"),
        ("a\ud800b", "lone surrogate"),
        ("x" * 101, "longer than the limit of 100"),
    ],
)
def test_bad_text_is_refused_not_repred(value, expected):
    res = validate_attributes(
        pd.DataFrame([row(naam=value)], dtype=object),
        KINDS["reserveringen"],
        limits=AttributeLimits(max_text_length=100),
    )
    [problem] = res.problems
    assert problem.index == 0 and problem.field == "naam" and expected in problem.message


def test_numbers_out_of_range_and_extra_objects_are_refused():
    frame = pd.DataFrame(
        [
            {"naam": "a", "sbi_code": "10.1", "milieucategorie": "2", "oppervlakte_ha": 2.0**60},
            {"naam": "b", "sbi_code": "10.1", "milieucategorie": "2", "oppervlakte_ha": 1.0},
        ]
    )
    frame["extra"] = pd.Series([{"x": 1}, "ok"], dtype=object)
    res = validate_attributes(frame, KINDS["vestigingen"])
    got = {(p.index, p.field): p.message for p in res.problems}
    assert "out of range" in got[(0, "oppervlakte_ha")]
    assert "an object" in got[(0, "extra")]


def test_vertex_limit_names_the_feature():
    ring = shapely.Point(136_000, 456_000).buffer(100, quad_segs=100)
    frame = pd.DataFrame([row(naam="rond"), row(naam="vierkant")])
    geoms = np.array([ring, shapely.box(136_000, 456_000, 136_100, 456_100)], dtype=object)
    source = frame_source(frame, geoms, None, "GeoJSON")
    from pyproj import CRS

    source.crs = CRS.from_epsg(28992)
    with pytest.raises(InvalidFeatures) as info:
        prepare(source, KINDS["reserveringen"], PrepareOptions(), ImportPolicy(max_vertices=50))
    assert [p.index for p in info.value.problems] == [0]
    assert "more than the limit of 50" in info.value.lines[0]
    assert info.value.lines[0].startswith("feature 1 (naam 'rond')")


def test_settings_defaults():
    from app.settings import ImportSettings

    s = ImportSettings(_env_file=None)
    assert (s.max_text_length, s.max_vertices) == (10_000, 100_000)


def test_kinds_file_problems_are_all_listed(tmp_path):
    path = tmp_path / "kinds.yaml"
    path.write_text(
        "a:\n  title: A\n  geometry: polygon\n  gemeente_field: gem\n  fields:\n"
        "    x: {type: tekst}\n"
        "    y: {type: enum, values: {p: P}, synonyms: {q: r}, default: z}\n"
        "  rules:\n    - {rule: som, total: x}\n",
        encoding="utf-8",
    )
    with pytest.raises(KindsFileError) as info:
        load_kinds(path)
    joined = "\n".join(info.value.problems)
    assert "fields.x.type" in joined
    assert "synonym 'q' points at 'r'" in joined and "default 'z'" in joined
    assert "rules.0" in joined
