"""Grid, rasterising, distances, vectorising and GeoTIFF writing (no database)."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import shapely
from rasterio.io import MemoryFile

from spatial.grid import Grid
from spatial.overlay import polygonal, split_by_zones
from spatial.raster import burn_labels, burn_mask, distance_to, geotiff_bytes, vectorise


def test_grid_is_aligned_to_rd_multiples():
    g = Grid.aligned((114_244.0, 430_005.0, 171_506.0, 479_450.0), 25.0)
    assert g.minx % 25 == 0 and g.maxy % 25 == 0
    minx, miny, maxx, maxy = g.bounds
    assert minx <= 114_244 and miny <= 430_005 and maxx >= 171_506 and maxy >= 479_450
    assert maxx - minx < 57_262 + 50 and g.cell_ha == 0.0625
    with pytest.raises(ValueError, match="positive"):
        Grid.aligned((0, 0, 1, 1), 0)


def test_cell_boxes_and_centres_match_the_transform():
    g = Grid.aligned((0, 0, 100, 50), 25)
    box = g.cell_boxes(np.array([5]))[0]  # row 1, col 1
    assert box.bounds == (25.0, 0.0, 50.0, 25.0)
    x, y = g.cell_centres(np.array([5]))
    assert (x[0], y[0]) == (37.5, 12.5)
    assert g.transform @ (1.5, 1.5) == (37.5, 12.5)


def test_all_touched_marks_every_overlapping_cell():
    g = Grid.aligned((0, 0, 250, 250), 25)
    poly = shapely.Polygon([(10, 10), (240, 30), (120, 230)])
    mask = burn_mask([poly], g, all_touched=True)
    boxes = g.cell_boxes(np.arange(g.size))
    overlaps = shapely.area(shapely.intersection(boxes, poly)) > 1e-9
    assert not (overlaps & ~mask.ravel()).any()
    centre_only = burn_mask([poly], g, all_touched=False)
    assert centre_only.sum() < mask.sum()


def test_labels_take_the_geometry_holding_the_centre():
    g = Grid.aligned((0, 0, 100, 100), 25)
    labels = burn_labels([shapely.box(0, 0, 50, 100), shapely.box(50, 0, 100, 100)], [3, 7], g)
    assert labels[:, :2].tolist() == [[3, 3]] * 4 and labels[:, 2:].tolist() == [[7, 7]] * 4


def test_distance_is_exact_euclidean_between_centres():
    g = Grid.aligned((0, 0, 500, 300), 25)
    rng = np.random.default_rng(1)
    mask = rng.random(g.shape) < 0.01
    mask[3, 4] = True
    dist = distance_to(mask, g)
    rows, cols = np.nonzero(mask)
    rr, cc = np.indices(g.shape)
    brute = np.min(np.hypot(rr[..., None] - rows, cc[..., None] - cols), axis=-1) * 25.0
    assert np.allclose(dist, brute, atol=1e-3)
    assert np.isinf(distance_to(np.zeros(g.shape, dtype=bool), g)).all()


def test_vectorise_gives_cell_aligned_polygons_per_label():
    g = Grid.aligned((0, 0, 100, 100), 25)
    labels = np.zeros(g.shape, dtype=np.int32)
    labels[0, 0:2] = 5
    labels[3, 3] = 6
    shapes = vectorise(labels, g, mask=labels > 0)
    assert sorted((v, p.area) for v, p in shapes) == [(5, 1250.0), (6, 625.0)]


def test_geotiff_is_georeferenced_with_nodata_and_overviews_and_deterministic():
    g = Grid.aligned((100_000, 400_000, 120_000, 410_000), 25)
    data = (np.arange(g.size, dtype=np.float32).reshape(g.shape) % 97) / 97
    data[:10, :10] = -9999.0
    a = geotiff_bytes(data, g, nodata=-9999.0, description="test", tags={"values": "0-1"})
    b = geotiff_bytes(data.copy(), g, nodata=-9999.0, description="test", tags={"values": "0-1"})
    assert a == b
    with MemoryFile(a) as mem, mem.open() as ds:
        assert ds.crs.to_epsg() == 28992
        assert ds.nodata == -9999.0 and ds.dtypes[0] == "float32"
        assert ds.transform == g.transform and ds.shape == g.shape
        assert ds.overviews(1) == [2, 4]
        assert ds.descriptions[0] == "test" and ds.tags()["values"] == "0-1"
        assert np.array_equal(ds.read(1), data)
        assert "DATETIME" not in " ".join(ds.tags(ns="TIFF") or {}).upper()
    with rasterio.open(
        MemoryFile(
            geotiff_bytes(
                data[:8, :8].copy(), Grid(0, 200, 25, 8, 8), nodata=-1, description="tiny"
            )
        ).name
    ) as ds:
        assert ds.overviews(1) == []


def test_split_by_zones_and_polygonal_parts():
    zones = np.array([shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)])
    feats = np.array(
        [
            shapely.box(2, 2, 4, 4),
            shapely.box(8, 0, 12, 10),
            shapely.Point(15, 5),
            shapely.box(30, 0, 31, 1),
        ]
    )
    p = split_by_zones(feats, zones, keep_geometry=True)
    assert list(zip(p.feature.tolist(), p.zone.tolist(), strict=True)) == [
        (0, 0),
        (1, 0),
        (1, 1),
        (2, 1),
    ]
    assert p.area.tolist() == [4.0, 20.0, 20.0, 0.0] and p.share.tolist() == [1.0, 0.5, 0.5, 1.0]
    assert polygonal(np.array([None, shapely.LineString([(0, 0), (1, 1)])])).tolist() == [
        None,
        None,
    ]
