"""The export reads typed columns in SQL (issue 14): the same table as decoding the JSONB in
Python, for every type, nulls, awkward text, extra fields, pinned versions and viewers."""

from __future__ import annotations

import pandas as pd
import pytest
import shapely

from layers.access import PUBLIC, Viewer
from layers.exporter import TYPED_BATCH, feature_table, typed_table
from layers.kinds import load_kinds
from layers.store import get_layer, read_features
from tests.helpers import X0, Y0, square, terreinen, write
from tests.layers.test_roundtrip import _import, reserveringen


def _nulls_as_none(frame) -> pd.DataFrame:
    """Missing text as None in both (the writers take None and NaN alike as null)."""
    frame = pd.DataFrame(frame.drop(columns="geometry"))
    for name in frame.columns:
        if frame[name].dtype == object:
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


def _compare(conn, name, version=None, viewer=None) -> int:
    info = get_layer(conn, name, version, viewer)
    kind = load_kinds()[info.kind]
    expected = feature_table(read_features(conn, name, version, viewer), kind)
    got = typed_table(conn, info, kind, version, viewer)
    pd.testing.assert_frame_equal(_nulls_as_none(got), _nulls_as_none(expected))
    assert shapely.equals_exact(list(got.geometry.array), list(expected.geometry.array), 0).all()
    assert got.crs == expected.crs
    return len(got)


def test_every_type_nulls_and_awkward_text(db, tmp_path):
    frame = reserveringen()
    frame.loc[0, "doel"] = 'quote " comma , newline \n tab \t backslash \\ end'
    frame["aantal"] = [3, None]  # an extra integer field
    frame["aandeel"] = [0.125, 1e-12]  # an extra number field
    frame["gecheckt"] = [True, None]  # an extra boolean field
    _import(db, write(frame, tmp_path / "r.gpkg"), "res", "reserveringen")
    terr = terreinen(4)
    terr.loc[1, "type_werklocatie"] = None
    _import(db, write(terr, tmp_path / "t.gpkg"), "ter", "bedrijventerreinen")
    with db.connect() as conn:
        assert _compare(conn, "res") == 2
        assert _compare(conn, "ter") == 4
        for viewer in (PUBLIC, Viewer(see_all=False, drafts=True, gemeente="GM0344")):
            assert _compare(conn, "res", viewer=viewer) == 2


def test_batches_pinned_versions_and_viewers(db, tmp_path):
    n = TYPED_BATCH + 7  # more than one batch
    frame = terreinen(1).iloc[[0] * n].reset_index(drop=True)
    frame["naam"] = [f"T{i}" for i in range(n)]
    frame.geometry = [
        square(X0 + (i % 100) * 250.0, Y0 + (i // 100) * 250.0, 100) for i in range(n)
    ]
    path = write(frame, tmp_path / "many.gpkg")
    _import(db, path, "many", "bedrijventerreinen")
    with db.connect() as conn:
        assert _compare(conn, "many") == n
        assert _compare(conn, "many", viewer=PUBLIC) == n
    small = write(terreinen(2), tmp_path / "two.gpkg")
    from layers.importer import ImportPolicy, ImportRequest, import_file

    import_file(
        db,
        ImportRequest(path=small, kind="bedrijventerreinen", name="many", new_version=True),
        ImportPolicy(),
    )
    with db.connect() as conn:
        assert _compare(conn, "many") == 2
        assert _compare(conn, "many", version=1) == n


@pytest.mark.parametrize("viewer", [None, PUBLIC])
def test_an_empty_layer(db, tmp_path, viewer):
    frame = terreinen(1)
    _import(db, write(frame, tmp_path / "one.gpkg"), "one", "bedrijventerreinen")
    with db.connect() as conn:
        info = get_layer(conn, "one")
        table = typed_table(conn, info, load_kinds()[info.kind], viewer=viewer)
    assert len(table) == 1


def test_arrow_text_checks_strip_what_python_strips():
    import numpy as np

    from layers.kinds.coercion import PYTHON_WHITESPACE, is_null, text_column, text_problem

    assert PYTHON_WHITESPACE == "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
    values = [" a ", "", None, "x\x00y", "\x1c", "é" * 10, "\u3000b\u2028", "  ", "ok"]
    arrow = pd.Series(values, dtype="string[pyarrow]")
    got, why = text_column(arrow, 5)
    for v, g, w in zip(values, got, why, strict=True):
        if v is None:
            assert g is None and w is None
        else:
            assert (g, w) == text_problem(v, 5)
    assert list(is_null(arrow)) == list(is_null(pd.Series(values, dtype=object)))
    assert np.asarray(is_null(arrow)).dtype == bool


def _read_back(path, layer) -> tuple[pd.DataFrame, dict]:
    import pyogrio

    frame = pyogrio.read_dataframe(path, layer=layer, fid_as_index=True)
    return frame, pyogrio.read_info(path, layer=layer)


@pytest.mark.parametrize("fmt", ["gpkg", "fgb"])
@pytest.mark.parametrize("viewer", [None, PUBLIC])
def test_arrow_export_writes_what_the_table_path_writes(db, tmp_path, fmt, viewer):
    """GeoPackage and FlatGeobuf go from the query's Arrow batches straight to GDAL (issue 14):
    the same features, fids, types, nulls, geometry type, CRS and styles as the table path."""
    import pyogrio

    from layers.exporter import export_layer, typed_batches, write_table

    frame = reserveringen()
    frame["aantal"] = [3, None]
    frame["aandeel"] = [0.125, None]
    frame["gecheckt"] = [True, None]
    _import(db, write(frame, tmp_path / "r.gpkg"), "res", "reserveringen")
    n = TYPED_BATCH + 3  # more than one batch
    many = terreinen(1).iloc[[0] * n].reset_index(drop=True)
    many["naam"] = [f"T{i}" for i in range(n)]
    many.loc[5, "type_werklocatie"] = None
    many.geometry = [square(X0 + (i % 100) * 250.0, Y0 + (i // 100) * 250.0, 100) for i in range(n)]
    _import(db, write(many, tmp_path / "many.gpkg"), "many", "bedrijventerreinen")
    for name in ("res", "many"):
        fast, slow = tmp_path / f"{name}-fast.{fmt}", tmp_path / f"{name}-slow.{fmt}"
        with db.connect() as conn:
            result = export_layer(conn, name, fmt, fast, viewer=viewer)
            info = get_layer(conn, name, viewer=viewer)
            kind = load_kinds()[info.kind]
            stream = typed_batches(conn, info, kind, viewer=viewer)
            assert sum(b.num_rows for b in stream.batches) == result.feature_count
            table = typed_table(conn, info, kind, viewer=viewer)
        write_table(table, info.name, info.title, info.description, fmt, slow, kind=kind)
        layer = name if fmt == "gpkg" else None
        got, got_info = _read_back(fast, layer)
        want, want_info = _read_back(slow, layer)
        assert result.feature_count == len(want) == info.feature_count
        pd.testing.assert_frame_equal(_nulls_as_none(got), _nulls_as_none(want))
        assert list(got.index) == list(want.index)  # the fids
        assert shapely.equals_exact(list(got.geometry.array), list(want.geometry.array), 0).all()
        for key in ("geometry_type", "crs", "fields", "dtypes", "features", "fid_column"):
            assert str(got_info[key]) == str(want_info[key]), key
        if fmt == "gpkg":
            layers = [str(x) for x, _ in pyogrio.list_layers(fast)]
            assert layers == [str(x) for x, _ in pyogrio.list_layers(slow)]
            # the GeoPackages' own tables, read through GDAL as a GIS client reads them
            for sql in (
                "SELECT f_table_name, styleName, useAsDefault FROM layer_styles",
                "SELECT identifier, description, srs_id FROM gpkg_contents",
            ):
                a = pyogrio.read_dataframe(fast, sql=sql, read_geometry=False)
                b = pyogrio.read_dataframe(slow, sql=sql, read_geometry=False)
                assert len(a) > 0
                pd.testing.assert_frame_equal(a, b)


def test_arrow_export_reads_geometry_types_from_the_headers(db, tmp_path):
    """The Arrow path learns the geometry types before it writes; a layer mixing them takes
    the table path (``test_roundtrip``: a GeoPackage table per type)."""
    from layers.exporter import _layer_type_ids, export_layer

    _import(db, write(terreinen(2), tmp_path / "t.gpkg"), "ter", "bedrijventerreinen")
    with db.connect() as conn:
        info = get_layer(conn, "ter")
        ids, zm = _layer_type_ids(conn, info, None, None)
        assert ids == {3} and not zm
        result = export_layer(conn, "ter", "gpkg", tmp_path / "t.gpkg")
    assert result.feature_count == 2
