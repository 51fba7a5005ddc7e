"""The feature store itself: binary COPY fidelity, one partition per layer, concurrent imports."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import text

from layers.errors import LayerNotFound
from layers.importer import ImportPolicy, ImportRequest, import_file
from layers.models import partition_name
from layers.store import (
    ANALYZE_FROM,
    NewFeatures,
    Provenance,
    delete_layer,
    read_features,
    store_layer,
)
from tests.helpers import X0, Y0, square, table_counts, terreinen, write

ODD_TEXT = ["tab\there", "new\nline", "back\\slash \\N", "quote \" and '", "ë ü € 🏭", "", None]


def _store(
    conn,
    name,
    geoms,
    attributes,
    gemeente,
    *,
    kind="constraints",
    geometry_type="Polygon",
    created_by=None,
    new_version=False,
):
    return store_layer(
        conn,
        name=name,
        kind=kind,
        title=None,
        description=None,
        geometry_type=geometry_type,
        features=NewFeatures(
            geometries=np.asarray(geoms, dtype=object),
            attributes=pd.DataFrame(attributes),
            gemeente=np.asarray(gemeente, dtype=object),
        ),
        provenance=Provenance(source="test", created_by=created_by),
        extra_fields={},
        new_version=new_version,
    )


def test_binary_copy_keeps_geometry_attributes_and_nulls_exactly(db):
    geoms = [
        shapely.Point(X0 + 0.123456789, Y0 + 0.987654321),
        shapely.LineString([(X0, Y0), (X0 + 10.5, Y0 + 20.25), (X0 + 30, Y0)]),
        square(X0, Y0).difference(square(X0 + 50, Y0 + 50, 20)),  # a polygon with a hole
        shapely.MultiPolygon([square(X0, Y0), square(X0 + 500, Y0)]),
        shapely.MultiPoint([(X0, Y0), (X0 + 1, Y0 + 1)]),
        shapely.MultiLineString([[(X0, Y0), (X0 + 1, Y0)], [(X0, Y0 + 5), (X0 + 2, Y0 + 5)]]),
        shapely.GeometryCollection([shapely.Point(X0, Y0), square(X0, Y0, 5)]),
    ]
    attributes = {"naam": ODD_TEXT, "waarde": [1.5, -0.0, 1e-300, 123456789.123456, None, 0.1, 7.0]}
    gemeente = ["GM0344", None, "", "GM0307", "GM0344", None, "GM1581"]
    with db.begin() as conn:
        info = _store(
            conn,
            "vreemd",
            geoms,
            attributes,
            gemeente,
            geometry_type="Geometry",
            created_by="gebruiker ë",
        )
    with db.connect() as conn:
        ff = read_features(conn, "vreemd")
        rows = conn.execute(
            text(
                "SELECT ST_SRID(geom), properties, gemeente, created_by FROM features "
                "WHERE layer_id = :l ORDER BY fid"
            ),
            {"l": info.id},
        ).all()
    assert [r[0] for r in rows] == [28992] * len(geoms)
    for got, want in zip(ff.geometries, geoms, strict=True):
        assert shapely.to_wkb(got) == shapely.to_wkb(want)  # bit for bit, not "close"
    assert [r[2] for r in rows] == ["GM0344", None, None, "GM0307", "GM0344", None, "GM1581"]
    assert {r[3] for r in rows} == {"gebruiker ë"}
    stored = [r[1] for r in rows]  # the JSONB as stored, nulls as JSON null
    assert [p["naam"] for p in stored] == ODD_TEXT
    assert [p["waarde"] for p in stored] == [1.5, -0.0, 1e-300, 123456789.123456, None, 0.1, 7.0]


def test_arrow_row_encoding_is_the_loop_byte_for_byte():
    """The COPY rows encoded over whole columns (Arrow) are the bytes the per-row loop makes."""
    from layers.store import _BINARY_ROW_HEAD, _binary_rows, _binary_rows_arrow, _binary_text

    geoms = [
        shapely.Point(X0 + 0.123456789, Y0 + 0.987654321),
        shapely.LineString([(X0, Y0), (X0 + 10.5, Y0 + 20.25), (X0 + 30, Y0)]),
        square(X0, Y0).difference(square(X0 + 50, Y0 + 50, 20)),
        shapely.MultiPolygon([square(X0, Y0), square(X0 + 500, Y0)]),
        shapely.Polygon(),
        shapely.GeometryCollection([shapely.Point(X0, Y0), square(X0, Y0, 5)]),
        square(X0, Y0),
    ]
    wkb = shapely.to_wkb(np.asarray(geoms, dtype=object), byte_order=1)
    props = pd.DataFrame({"naam": ODD_TEXT, "n": [1, 2, 3, None, 5, 6, 7]})
    from layers.store import properties_json

    lines = properties_json(props)
    gemeente = np.asarray(["GM0344", None, "", "GM0307", "GM0344", None, "GM1581"], dtype=object)
    head = _BINARY_ROW_HEAD.pack(6, 4, 12, 4, 3)
    for tail in (_binary_text("gebruiker ë"), _binary_text(None)):
        want = _binary_rows(head, gemeente, wkb, lines, tail)
        assert _binary_rows_arrow(head, gemeente, wkb, lines, tail) == want
        assert _binary_rows_arrow(head, gemeente[:0], wkb[:0], [], tail) == b""


def _partition(conn, layer_id):
    return conn.execute(
        text(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), "
            "(SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid) "
            "FROM pg_class c JOIN pg_inherits h ON h.inhrelid = c.oid "
            "WHERE h.inhparent = 'features'::regclass AND c.relname = :n"
        ),
        {"n": partition_name(layer_id)},
    ).first()


def test_each_layer_has_its_own_attached_indexed_partition(db, tmp_path):
    report = import_file(
        db,
        ImportRequest(
            path=write(terreinen(3), tmp_path / "t.gpkg"), kind="bedrijventerreinen", name="bt"
        ),
        ImportPolicy(),
    )
    with db.begin() as conn:
        empty = _store(conn, "leeg", [], {}, [])
    with db.connect() as conn:
        name, bound, indexes = _partition(conn, report.layer.id)
        assert bound == f"FOR VALUES IN ({report.layer.id})"
        # primary key, gemeente, GiST on geom, current rows by fid: built when it was attached
        assert indexes == 4
        assert conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one() == 3
        assert _partition(conn, empty.id) is not None
        plan = "\n".join(
            conn.execute(
                text(f"EXPLAIN SELECT * FROM features WHERE layer_id = {report.layer.id}")
            ).scalars()
        )
    assert name in plan and partition_name(empty.id) not in plan  # the other layers are pruned


def _estimated_rows(conn, sql: str) -> float:
    return conn.execute(text(f"EXPLAIN (FORMAT JSON) {sql}")).scalar_one()[0]["Plan"]["Plan Rows"]


def test_a_large_import_leaves_the_planner_statistics_pages_need(db):
    """Without statistics on layer_id the planner guessed 0.5 % of a fresh layer's rows for
    ``layer_id = N`` and chose a hash join over every row for the first page (four times as
    slow); the import analyzes the key columns, and a deep page of current rows can walk the
    index of current rows (``ix_features_current``) in fid order once the partition is vacuumed."""
    n = ANALYZE_FROM
    xs = X0 + np.arange(n) % 100 * 20.0
    ys = Y0 + np.arange(n) // 100 * 20.0
    with db.begin() as conn:
        info = _store(
            conn,
            "veel",
            list(shapely.points(xs, ys)),
            {"naam": [f"p{i}" for i in range(n)]},
            [None] * n,
            geometry_type="Point",
        )
    where = f"FROM features WHERE layer_id = {info.id} AND version_to IS NULL AND draft IS false"
    with db.connect() as conn:
        assert _estimated_rows(conn, f"SELECT fid {where}") > 0.9 * n
    with db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"VACUUM {partition_name(info.id)}"))
        plan = "\n".join(
            conn.execute(
                text(
                    f"EXPLAIN SELECT fid, version_from {where} ORDER BY fid LIMIT 100 OFFSET {n - 200}"
                )
            ).scalars()
        )
    assert "Index Only Scan" in plan and "layer_id_fid_version_from_draft_idx" in plan, plan


def test_new_version_goes_into_the_same_partition(db):
    with db.begin() as conn:
        first = _store(conn, "c", [square(X0, Y0)], {"naam": ["a"]}, [None])
    with db.begin() as conn:
        second = _store(
            conn,
            "c",
            [square(X0, Y0), square(X0 + 500, Y0)],
            {"naam": ["b", "c"]},
            [None, None],
            new_version=True,
        )
    assert second.id == first.id and second.version == 2
    with db.connect() as conn:
        assert (
            conn.execute(text(f"SELECT count(*) FROM {partition_name(first.id)}")).scalar_one() == 3
        )
        assert len(read_features(conn, "c", version=1).fids) == 1
        assert len(read_features(conn, "c").fids) == 2


def test_delete_drops_the_partition(db):
    with db.begin() as conn:
        info = _store(conn, "weg", [square(X0, Y0)], {"naam": ["a"]}, [None])
        _store(conn, "blijft", [square(X0, Y0)], {"naam": ["b"]}, [None])
    with db.begin() as conn:
        assert delete_layer(conn, "weg") == 1
    with db.connect() as conn:
        assert _partition(conn, info.id) is None
        with pytest.raises(LayerNotFound):
            read_features(conn, "weg")
        assert len(read_features(conn, "blijft").fids) == 1
    assert table_counts(db) == {"layers": 1, "layer_versions": 1, "features": 1, "partitions": 1}


def test_failed_store_leaves_no_partition(db):
    before = table_counts(db)
    with pytest.raises(ValueError), db.begin() as conn:
        _store(conn, "half", [square(X0, Y0)], {"naam": ["a"]}, [None])
        raise ValueError("the request fails after the rows are in")
    assert table_counts(db) == before


def test_concurrent_imports_of_different_layers_both_land(db, tmp_path):
    """Each import attaches a partition; two at once must neither deadlock nor mix rows."""
    paths = []
    for g in ("GM0344", "GM0307"):
        frame = terreinen(3000, gemeente=g)
        frame.geometry = [
            square(X0 + (i % 60) * 300.0, Y0 + (i // 60) * 300.0) for i in range(3000)
        ]
        paths.append(write(frame, tmp_path / f"{g}.gpkg"))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(path, name):
        barrier.wait()
        try:
            import_file(
                db, ImportRequest(path=path, kind="bedrijventerreinen", name=name), ImportPolicy()
            )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(p, f"bt-{i}")) for i, p in enumerate(paths)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.connect() as conn:
        for i, g in enumerate(("GM0344", "GM0307")):
            ff = read_features(conn, f"bt-{i}")
            assert len(ff.fids) == 3000 and set(ff.gemeente) == {g}
