import numpy as np
import pytest
import shapely

from spatial.geometry import check_geometries, promote_to_multi
from tests.helpers import bowtie, square


def arr(*geoms):
    return np.array(list(geoms), dtype=object)


def test_valid_polygons_pass_untouched():
    res = check_geometries(arr(square(0, 0), square(500, 0)), "polygon")
    assert res.problems == [] and res.repairs == [] and res.notes == []
    assert res.geometry_type == "Polygon"


def test_invalid_polygon_named_with_reason():
    res = check_geometries(arr(square(0, 0), bowtie(500, 0)), "polygon")
    [problem] = res.problems
    assert problem.index == 1
    assert "Self-intersection" in problem.message


def test_repair_makes_valid_and_reports_area():
    res = check_geometries(arr(bowtie(0, 0, 200)), "polygon", repair=True)
    assert res.problems == []
    [repair] = res.repairs
    assert "repaired invalid geometry" in repair.message
    geom = res.geometries[0]
    assert geom.is_valid
    # The bowtie's two triangles: 2 × (200 × 100 / 2) m² = 2 ha.
    assert geom.area == pytest.approx(20_000.0)
    assert "2.0000 ha" in repair.message


def test_empty_and_missing_refused_or_dropped():
    geoms = arr(square(0, 0), shapely.Polygon(), None)
    res = check_geometries(geoms, "polygon")
    assert [p.index for p in res.problems] == [1, 2]
    res = check_geometries(geoms, "polygon", drop_empty=True)
    assert res.problems == []
    assert res.keep.tolist() == [True, False, False]
    assert "dropped 2 feature(s)" in res.notes[0]


def test_z_is_dropped_with_a_note():
    res = check_geometries(
        arr(shapely.Polygon([(0, 0, 5), (10, 0, 5), (10, 10, 5), (0, 0, 5)])), "polygon"
    )
    assert not shapely.has_z(res.geometries[0])
    assert "dropped Z" in res.notes[0]


def test_wrong_family_refused():
    res = check_geometries(arr(square(0, 0), shapely.Point(1, 1)), "polygon")
    [problem] = res.problems
    assert problem.index == 1 and "is a Point" in problem.message


def test_mixed_single_and_multi_promoted():
    res = check_geometries(
        arr(square(0, 0), shapely.MultiPolygon([square(500, 0), square(900, 0)])), "polygon"
    )
    assert res.geometry_type == "MultiPolygon"
    assert all(g.geom_type == "MultiPolygon" for g in res.geometries)
    assert "promoted 1" in res.notes[0]


def test_mixed_families_allowed_for_any_kind():
    res = check_geometries(
        arr(square(0, 0), shapely.Point(1, 1), shapely.LineString([(0, 0), (1, 1)])), "any"
    )
    assert res.problems == []
    assert res.geometry_type == "Geometry"


def test_collection_refused_or_reduced():
    gc = shapely.GeometryCollection([square(0, 0), shapely.Point(1, 1)])
    assert "geometry collection" in check_geometries(arr(gc), "polygon").problems[0].message
    res = check_geometries(arr(gc), "polygon", repair=True)
    assert res.problems == [] and res.geometries[0].geom_type == "Polygon"


def test_nan_coordinates_refused():
    res = check_geometries(arr(shapely.Point(float("nan"), 1.0)), "point")
    assert "NaN or infinite" in res.problems[0].message


def test_promote_to_multi():
    out = promote_to_multi(arr(square(0, 0), shapely.Point(0, 0)))
    assert [g.geom_type for g in out] == ["MultiPolygon", "MultiPoint"]
