import numpy as np
import pytest
import shapely

from spatial.crs import RD_NEW, WGS84, check_coordinates, parse_crs, reproject


@pytest.mark.parametrize(
    ("value", "epsg"),
    [
        ("28992", 28992),
        (28992, 28992),
        ("EPSG:28992", 28992),
        ("http://www.opengis.net/def/crs/EPSG/0/28992", 28992),
        ("http://www.opengis.net/def/crs/EPSG/0/4258", 4258),
    ],
)
def test_parse_crs(value, epsg):
    assert parse_crs(value).to_epsg() == epsg


def test_parse_crs84_is_lon_lat():
    crs = parse_crs("http://www.opengis.net/def/crs/OGC/1.3/CRS84")
    assert crs.equals(parse_crs("CRS84"))


def test_amersfoort_origin_reprojects_to_rd_false_origin():
    # RD's origin, the Onze Lieve Vrouwetoren in Amersfoort: (155 000, 463 000) in RD New,
    # 52.15517440 N 5.38720621 E in ETRS89/WGS84 (within the ~1 m of the Helmert fit).
    pt = reproject(np.array([shapely.Point(5.38720621, 52.15517440)]), WGS84)[0]
    assert pt.x == pytest.approx(155_000, abs=2)
    assert pt.y == pytest.approx(463_000, abs=2)


def test_plausible_coordinates_pass():
    geoms = np.array([shapely.box(136_000, 455_000, 137_000, 456_000)])
    assert check_coordinates(geoms, RD_NEW) == []


def test_lonlat_declared_as_rd_is_explained():
    geoms = np.array([shapely.box(5.1, 52.0, 5.2, 52.1)])
    [issue] = check_coordinates(geoms, RD_NEW)
    assert issue.index == 0
    assert "longitude/latitude degrees" in issue.message


def test_swapped_lonlat_is_explained():
    geoms = np.array([shapely.Point(52.09, 5.12)])
    [issue] = check_coordinates(geoms, WGS84)
    assert "swapped" in issue.message


def test_swapped_rd_axes_are_explained():
    geoms = np.array([shapely.Point(455_965, 136_928)])
    [issue] = check_coordinates(geoms, RD_NEW)
    assert "swapped" in issue.message


def test_rd_declared_as_degrees_is_explained():
    geoms = np.array([shapely.Point(136_928, 455_965)])
    [issue] = check_coordinates(geoms, WGS84)
    assert "look like RD New metres" in issue.message


def test_far_away_is_reported_per_feature():
    geoms = np.array([shapely.Point(136_928, 455_965), shapely.Point(2_000_000, 455_965), None])
    [issue] = check_coordinates(geoms, RD_NEW)
    assert issue.index == 1
    assert "far outside the Netherlands" in issue.message
