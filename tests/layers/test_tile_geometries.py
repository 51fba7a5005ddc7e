"""Web Mercator geometry stored once per feature row for tiles (``tile_geometries``, issue 14).

A WebMercatorQuad tile is the same whether its rows' 3857 geometry was stored or is transformed
when the tile is made; an entry is only ever used for the row it was made from; an edit's new
rows are transformed until they are stored; deleting a layer removes its entries.
"""

from __future__ import annotations

import math
import threading

from sqlalchemy import text

import layers.tile_geometries
from layers.access import PUBLIC
from layers.kinds import load_kinds
from layers.query import FeatureQuery
from layers.store import delete_layer, get_layer
from layers.tile_geometries import prepare_tile_geometries
from layers.tiles import WEB_MERCATOR_QUAD, TileRequest, layer_tile
from tests.helpers import X0, Y0, square
from tests.layers.test_store import _store


def _tile_of_point(x: float, y: float, z: int) -> tuple[int, int]:
    lon, lat = x, y
    n = 1 << z
    return (
        int((lon + 180) / 360 * n),
        int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n),
    )


def _entries(conn, layer_id: int) -> int:
    return conn.execute(
        text("SELECT count(*) FROM tile_geometries WHERE layer_id = :id"), {"id": layer_id}
    ).scalar_one()


def _stored_in_background() -> None:
    """Wait for the threads the tiles started (:func:`layers.tile_geometries.prepare_later`)."""
    for thread in threading.enumerate():
        if thread.name.startswith("tile-geometries-"):
            thread.join(30)


def _tile(engine, name: str, z: int, x: int, y: int):
    with engine.connect() as conn:
        info = get_layer(conn, name, with_versions=False)
        req = TileRequest(WEB_MERCATOR_QUAD, z, x, y, name)
        return layer_tile(conn, info, load_kinds()[info.kind], req, FeatureQuery(viewer=PUBLIC))


def test_a_tile_is_the_same_with_and_without_stored_geometry_and_never_uses_a_stale_entry(
    db, monkeypatch
):
    # Layer ids start again in every test database: forget what this process stored before.
    monkeypatch.setattr(layers.tile_geometries, "_prepared", set())
    with db.begin() as conn:
        info = _store(
            conn,
            "vlakken",
            [square(X0 + i * 300, Y0, 250) for i in range(5)],
            {"naam": [f"v{i}" for i in range(5)]},
            [None] * 5,
        )
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_Point(:x, :y), 28992), 4326) p"
            ),
            {"x": X0 + 600, "y": Y0},
        ).one()
    z = 13
    x, y = _tile_of_point(lon, lat, z)
    made = _tile(db, "vlakken", z, x, y)  # nothing stored yet: transformed now
    assert made.returned == 5
    _stored_in_background()  # the first tile of the version stored them
    with db.begin() as conn:
        assert _entries(conn, info.id) == 5
    assert _tile(db, "vlakken", z, x, y) == made
    # The stored geometry is what the tile uses...
    moved = "UPDATE tile_geometries SET geom = ST_Translate(geom, 1e6, 0) WHERE layer_id = :id"
    with db.begin() as conn:
        conn.execute(text(moved), {"id": info.id})
    assert _tile(db, "vlakken", z, x, y).returned == 0
    # ...but only for the row it was made from (a row made again has another created_at).
    with db.begin() as conn:
        conn.execute(
            text(
                "UPDATE tile_geometries SET created_at = created_at - interval '1 s' WHERE layer_id = :id"
            ),
            {"id": info.id},
        )
    assert _tile(db, "vlakken", z, x, y) == made
    with db.begin() as conn:  # stored again over the stale entries
        assert prepare_tile_geometries(conn, info.id)
        assert _entries(conn, info.id) == 5
    assert _tile(db, "vlakken", z, x, y) == made
    # A new version's rows have no entries yet: transformed, the same tile as once stored.
    with db.begin() as conn:
        _store(
            conn,
            "vlakken",
            [square(X0 + i * 300, Y0, 200) for i in range(5)],
            {"naam": [f"w{i}" for i in range(5)]},
            [None] * 5,
            new_version=True,
        )
    fresh = _tile(db, "vlakken", z, x, y)
    assert fresh != made and fresh.returned == 5
    _stored_in_background()
    with db.begin() as conn:
        assert _entries(conn, info.id) == 10  # the closed rows' entries stay with them
    assert _tile(db, "vlakken", z, x, y) == fresh
    with db.begin() as conn:
        delete_layer(conn, "vlakken")
        assert _entries(conn, info.id) == 0


def test_a_second_process_storing_at_the_same_time_steps_aside(db):
    with db.begin() as conn:
        info = _store(conn, "punten", [square(X0, Y0)], {"naam": ["a"]}, [None])
    with db.begin() as first, db.begin() as second:
        assert prepare_tile_geometries(first, info.id)
        assert not prepare_tile_geometries(second, info.id)  # the advisory lock is taken
