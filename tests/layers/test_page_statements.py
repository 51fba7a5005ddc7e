"""Pages of features (:func:`layers.query.query_features`, issue 14): one statement per shape
of query, the box, limit and offset bound at each request; WGS84 output from the rows' stored
Web Mercator geometry (``tile_geometries``) where they have one, the same as transforming RD
New, and never from an entry made for another row."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import shapely
from sqlalchemy import text

import layers.query
from layers.access import PUBLIC, Viewer
from layers.kinds import load_kinds
from layers.query import FeatureQuery, query_features
from layers.store import get_layer
from layers.tile_geometries import prepare_tile_geometries
from tests.helpers import X0, Y0
from tests.layers.test_store import _store

#: Boxes (CRS84) over the stars below, and one beyond RD New's area (nothing left of it).
BOXES = [
    (5.05, 52.05, 5.15, 52.12),
    (5.10, 52.08, 5.30, 52.20),
    (4.90, 51.95, 5.40, 52.25),
    (100.0, 10.0, 101.0, 11.0),
]


def _stars(n: int, seed: int = 7) -> list[shapely.Polygon]:
    """Star-shaped polygons of 20-60 vertices, overlapping, spread over about 30 by 20 km."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        cx, cy = X0 - 15_000 + rng.random() * 30_000, Y0 - 10_000 + rng.random() * 20_000
        k = int(rng.integers(20, 61))
        angles = np.sort(rng.random(k)) * 2 * math.pi
        radii = 80 + rng.random(k) * 400
        out.append(shapely.Polygon(np.c_[cx + radii * np.cos(angles), cy + radii * np.sin(angles)]))
    return out


@pytest.fixture
def stars(db):
    n = 400
    with db.begin() as conn:
        info = _store(
            conn,
            "sterren",
            _stars(n),
            {"naam": [f"s{i}" for i in range(n)]},
            ["GM0344" if i % 3 else "GM0307" for i in range(n)],
        )
    return info


def _page(engine, q: FeatureQuery, fresh: bool = False) -> tuple:
    if fresh:
        layers.query._statements.clear()
    with engine.connect() as conn:
        info = get_layer(conn, "sterren", with_versions=False)
        page = query_features(conn, info, load_kinds()[info.kind], q, count_cap=10_000)
    return json.loads(page.features_json), page.number_returned, page.number_matched, page.last_key


def _coordinates(geometry: dict) -> np.ndarray:
    return np.array(shapely.get_coordinates(shapely.geometry.shape(geometry)))


def test_one_statement_serves_every_box_limit_and_offset(db, stars):
    gemeente_editor = Viewer(gemeente="GM0307")
    queries = [
        FeatureQuery(bbox=box, limit=limit, offset=offset, viewer=viewer)
        for box in BOXES
        for limit, offset in ((10, 0), (50, 0), (25, 40), (100, 380), (7, 1000))
        for viewer in (PUBLIC, None, gemeente_editor)
    ] + [
        FeatureQuery(bbox=box, bbox_srid=28992, limit=30, viewer=None)
        for box in ((X0 - 5000, Y0 - 5000, X0, Y0), (X0, Y0, X0 + 8000, Y0 + 3000))
    ]
    layers.query._statements.clear()
    reused = [_page(db, q) for q in queries]  # each shape's statement made once, then reused
    assert len(layers.query._statements) < len(queries) / 4
    fresh = [_page(db, q, fresh=True) for q in queries]  # a statement made for each
    assert reused == fresh
    # The pages are those of the boxes: every feature returned touches its box.
    for q, (features, returned, matched, _) in zip(queries, reused, strict=True):
        assert returned == len(features) <= q.limit
        assert matched is not None and returned == max(0, min(q.limit, matched - q.offset))
        if q.bbox_srid == 4326 and features:
            box = shapely.box(*q.bbox)
            assert all(box.intersects(shapely.geometry.shape(f["geometry"])) for f in features)
    beyond = [r for q, r in zip(queries, reused, strict=True) if q.bbox == BOXES[-1]]
    assert len(beyond) == 15 and all(r[1] == 0 for r in beyond)  # nothing beyond RD New


def test_wgs84_from_stored_web_mercator_is_the_transformed_geometry(db, stars):
    everything = FeatureQuery(limit=1000, viewer=None)
    latlon = FeatureQuery(limit=1000, viewer=None, latlon=True)
    rd = FeatureQuery(limit=1000, viewer=None, out_srid=28992)
    transformed = _page(db, everything)[0]
    transformed_latlon = _page(db, latlon)[0]
    with db.begin() as conn:
        assert prepare_tile_geometries(conn, stars.id)
        stored = conn.execute(
            text("SELECT count(*) FROM tile_geometries WHERE layer_id = :id"), {"id": stars.id}
        ).scalar_one()
    assert stored == 400
    from_stored = _page(db, everything)[0]
    assert [f["id"] for f in from_stored] == [f["id"] for f in transformed]
    exact = 0
    for a, b in zip(from_stored, transformed, strict=True):
        assert a["properties"] == b["properties"]
        ca, cb = _coordinates(a["geometry"]), _coordinates(b["geometry"])
        assert ca.shape == cb.shape
        assert np.abs(ca - cb).max() <= 1.0001e-7  # at most the last of 7 decimals
        exact += a["geometry"] == b["geometry"]
    assert exact >= 0.99 * len(transformed)
    flipped = _page(db, latlon)[0]
    for a, b in zip(flipped, transformed_latlon, strict=True):
        assert np.abs(_coordinates(a["geometry"]) - _coordinates(b["geometry"])).max() <= 1.0001e-7
    rd_page = _page(db, rd)[0]  # RD output never takes the Web Mercator geometry
    with db.begin() as conn:
        conn.execute(
            text(
                "UPDATE tile_geometries SET geom = ST_Translate(geom, 1e5, 0) WHERE layer_id = :id"
            ),
            {"id": stars.id},
        )
    moved = _page(db, everything)[0]  # the stored geometry is what the page shows...
    assert all(
        _coordinates(a["geometry"])[:, 0].min() > _coordinates(b["geometry"])[:, 0].max()
        for a, b in zip(moved, transformed, strict=True)
    )
    assert _page(db, rd)[0] == rd_page
    with db.begin() as conn:  # ...but only for the row it was made from
        conn.execute(
            text(
                "UPDATE tile_geometries SET created_at = created_at - interval '1 s' "
                "WHERE layer_id = :id"
            ),
            {"id": stars.id},
        )
    assert _page(db, everything)[0] == transformed
