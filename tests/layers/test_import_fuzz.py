"""Broken, hostile and odd files are refused cleanly: a LayerError naming the problem, never a
crash, and nothing stored."""

from __future__ import annotations

import io
import json
import random
import zipfile

import pytest
import shapely

from layers.errors import LayerError
from layers.importer import ImportPolicy, ImportRequest, PrepareOptions, import_file
from tests.helpers import X0, Y0, square, table_counts, terreinen, write

POLICY = ImportPolicy(work_area=(104_244.0, 420_005.0, 181_506.0, 489_450.0), max_bytes=20_000_000)


def _geojson(geometry, props=None) -> str:
    base = terreinen(1).drop(columns="geometry").iloc[0].to_dict()
    base.update(props or {})
    return json.dumps(
        {
            "type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
            "features": [{"type": "Feature", "properties": base, "geometry": geometry}],
        }
    )


def _refused(engine, path, **options) -> str:
    before = table_counts(engine)
    req = ImportRequest(
        path=path, kind="bedrijventerreinen", name="fuzz", options=PrepareOptions(**options)
    )
    with pytest.raises(LayerError) as info:
        import_file(engine, req, POLICY)
    assert table_counts(engine) == before
    return str(info.value) + "\n" + "\n".join(getattr(info.value, "lines", []))


RING = [[X0, Y0], [X0 + 100, Y0], [X0 + 100, Y0 + 100], [X0, Y0 + 100], [X0, Y0]]

CASES = {
    "nan coordinate": (
        {
            "type": "Polygon",
            "coordinates": [[[X0, Y0], ["NaN", Y0], [X0 + 100, Y0 + 100], [X0, Y0]]],
        },
        "geometry",
    ),
    "huge coordinates": (
        {
            "type": "Polygon",
            "coordinates": [
                [[1e300, 1e300], [1e300 + 1, 1e300], [1e300, 1e300 + 1], [1e300, 1e300]]
            ],
        },
        "outside",
    ),
    "empty polygon": ({"type": "Polygon", "coordinates": []}, "geometry"),
    "collapsed polygon": (
        {"type": "Polygon", "coordinates": [[[X0, Y0], [X0 + 100, Y0], [X0, Y0]]]},
        "geometry",
    ),
    "two-point ring": ({"type": "Polygon", "coordinates": [[[X0, Y0], [X0 + 1, Y0]]]}, ""),
    "point in polygon layer": ({"type": "Point", "coordinates": [X0, Y0]}, "Point"),
    "geometry collection": (
        {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [X0, Y0]}]},
        "",
    ),
    "no geometry": (None, "no geometry"),
    "string coordinates": ({"type": "Polygon", "coordinates": "nope"}, ""),
}


@pytest.mark.parametrize("case", list(CASES))
def test_odd_geometries_refused(db, tmp_path, case):
    geometry, needle = CASES[case]
    path = tmp_path / "f.geojson"
    path.write_text(_geojson(geometry))
    message = _refused(db, path)
    assert needle.lower() in message.lower()


def test_inf_in_attributes_refused(db, tmp_path):
    path = tmp_path / "inf.geojson"
    path.write_text(_geojson({"type": "Polygon", "coordinates": [RING]}, {"bruto_ha": "Infinity"}))
    assert "bruto_ha" in _refused(db, path)


def test_3d_and_measured_accepted_as_2d(db, tmp_path):
    frame = terreinen(2)
    frame["geometry"] = shapely.force_3d(frame.geometry.array, 12.5)
    report = import_file(
        db,
        ImportRequest(path=write(frame, tmp_path / "z.fgb"), kind="bedrijventerreinen", name="z"),
        POLICY,
    )
    assert report.layer.feature_count == 2 and any("Z" in n for n in report.notes)


def test_mixed_point_and_polygon_refused(db, tmp_path):
    frame = terreinen(2)
    frame.loc[1, "geometry"] = shapely.Point(X0, Y0)
    assert "is a Point" in _refused(db, write(frame, tmp_path / "mixed.gpkg"))


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9])
def test_truncated_files_refused(db, tmp_path, cut):
    for suffix in (".gpkg", ".fgb", ".geojson"):
        good = write(terreinen(20), tmp_path / f"good{suffix}").read_bytes()
        bad = tmp_path / f"bad{suffix}"
        bad.write_bytes(good[: int(len(good) * cut)])
        _refused(db, bad)


def test_wrong_encoding_refused_or_decoded(db, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        "naam;gemeente;wkt\nCafé Ã¼ \xff;GM0344;POINT (1 2)\n".encode("latin-1", errors="replace")
    )
    _refused(db, path, crs="28992")
    junk = tmp_path / "junk.geojson"
    junk.write_bytes(bytes(random.Random(1).randrange(256) for _ in range(4096)))
    _refused(db, junk)


def test_zip_bombs_and_odd_archives_refused(db, tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.geojson", " " * 60_000_000)
    assert "zip bomb" in _refused(db, bomb) or "limit" in _refused(db, bomb)
    nested = tmp_path / "nested.zip"
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("x.txt", "x")
    with zipfile.ZipFile(nested, "w") as zf:
        zf.writestr("inner.zip", inner.getvalue())
    assert "holds no" in _refused(db, nested)
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../etc/x.geojson", _geojson({"type": "Polygon", "coordinates": [RING]}))
    assert "unsafe" in _refused(db, evil)
    notzip = tmp_path / "fake.zip"
    notzip.write_bytes(b"PK\x03\x04 not really")
    _refused(db, notzip)


def test_random_mutations_of_a_valid_file_never_crash(db, tmp_path):
    """Flip, drop and insert bytes in a valid GeoJSON: every outcome is a stored layer or a LayerError."""
    valid = _geojson({"type": "Polygon", "coordinates": [RING]}).encode()
    rng = random.Random(20261128)
    for i in range(60):
        data = bytearray(valid)
        for _ in range(rng.randint(1, 6)):
            pos = rng.randrange(len(data))
            op = rng.random()
            if op < 0.4:
                data[pos] = rng.randrange(256)
            elif op < 0.7:
                del data[pos]
            else:
                data.insert(pos, rng.choice(b'{}[],:"0123456789-.eE'))
        path = tmp_path / f"m{i}.geojson"
        path.write_bytes(bytes(data))
        before = table_counts(db)
        try:
            import_file(
                db, ImportRequest(path=path, kind="bedrijventerreinen", name=f"m{i}"), POLICY
            )
        except LayerError:
            assert table_counts(db) == before


def test_square_sanity(db, tmp_path):
    frame = terreinen(1)
    frame.loc[0, "geometry"] = square(X0, Y0, 50)
    assert (
        import_file(
            db,
            ImportRequest(
                path=write(frame, tmp_path / "ok.gpkg"), kind="bedrijventerreinen", name="ok"
            ),
            POLICY,
        ).layer.feature_count
        == 1
    )
