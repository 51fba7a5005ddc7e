"""Import refusals and repairs: every problem named, nothing stored on failure."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import text

from layers.errors import (
    FileTooLarge,
    InvalidFeatures,
    LayerError,
    LayerExists,
    UnreadableFile,
    UnsupportedFormat,
)
from layers.importer import ImportPolicy, ImportRequest, PrepareOptions, import_file
from layers.store import get_layer, read_features
from tests.helpers import X0, Y0, square, table_counts, terreinen, write

POLICY = ImportPolicy(work_area=(104_244.0, 420_005.0, 181_506.0, 489_450.0), max_bytes=5_000_000)


def do_import(engine, path, name="bt", kind="bedrijventerreinen", policy=POLICY, **kw):
    options = {k: kw.pop(k) for k in list(kw) if k in PrepareOptions.__dataclass_fields__}
    req = ImportRequest(path=path, kind=kind, name=name, options=PrepareOptions(**options), **kw)
    return import_file(engine, req, policy)


def refused(engine, path, **kw) -> InvalidFeatures:
    before = table_counts(engine)
    with pytest.raises(InvalidFeatures) as info:
        do_import(engine, path, **kw)
    assert table_counts(engine) == before
    return info.value


def test_all_attribute_problems_listed_and_nothing_stored(db, tmp_path):
    frame = terreinen(5)
    frame.loc[1, "bruto_ha"] = -3.0
    frame.loc[3, "max_milieucategorie"] = "9"
    frame.loc[4, "netto_ha"] = 99.0
    exc = refused(db, write(frame, tmp_path / "bad.gpkg"))
    text_ = "\n".join(exc.lines)
    assert "feature 2 (naam 'Terrein 2'), field bruto_ha: -3 is below the minimum 0" in text_
    assert (
        "feature 4 (naam 'Terrein 4'), field max_milieucategorie: '9' is not a milieucategorie"
        in text_
    )
    assert "feature 5 (naam 'Terrein 5'), field netto_ha" in text_
    assert len({p.index for p in exc.problems}) == 3


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_no_crs_refused_unless_given(db, tmp_path):
    # A shapefile without .prj, with field names cut to 10 characters as shapefiles do.
    frame = terreinen(2).set_crs(None, allow_override=True)
    frame = frame[
        [
            "naam",
            "gemeente",
            "bruto_ha",
            "netto_ha",
            "uitgegeven_ha",
            "uitgeefbaar_ha",
            "max_milieucategorie",
            "geometry",
        ]
    ]
    frame = frame.rename(columns=lambda c: c[:10])
    path = write(frame, tmp_path / "nocrs.shp")
    before = table_counts(db)
    with pytest.raises(LayerError, match="has no CRS; give it with --crs"):
        do_import(db, path)
    assert table_counts(db) == before
    report = do_import(db, path, crs="28992")
    assert report.layer.feature_count == 2
    assert report.layer.provenance.source_crs == "EPSG:28992"


def test_wgs84_input_is_reprojected(db, tmp_path):
    frame = terreinen(2).to_crs(4326)
    report = do_import(db, write(frame, tmp_path / "wgs.geojson"))
    assert report.layer.provenance.source_crs == "EPSG:4326"
    with db.connect() as conn:
        ff = read_features(conn, "bt")
    assert ff.geometries[0].area == pytest.approx(40_000.0, rel=1e-6)
    assert shapely.get_coordinates(ff.geometries[0]).min(axis=0) == pytest.approx(
        [X0, Y0], abs=0.01
    )


def test_outside_work_area_refused(db, tmp_path):
    frame = terreinen(2)
    frame.loc[1, "geometry"] = square(30_000.0, 380_000.0)  # Zeeland
    exc = refused(db, write(frame, tmp_path / "far.gpkg"))
    assert (
        "feature 2 (naam 'Terrein 2'), field geometry: lies outside the work area" in exc.lines[0]
    )


def test_empty_geometry_refused_or_dropped(db, tmp_path):
    frame = terreinen(3)
    frame.loc[1, "geometry"] = None
    path = write(frame, tmp_path / "empty.gpkg")
    exc = refused(db, path)
    assert "feature 2 (naam 'Terrein 2'), field geometry: has no geometry" in exc.lines
    report = do_import(db, path, drop_empty=True)
    assert report.layer.feature_count == 2
    assert any("dropped 1 feature(s) without geometry" in n for n in report.notes)


def test_3d_is_flattened_with_a_note(db, tmp_path):
    frame = terreinen(2)
    frame["geometry"] = shapely.force_3d(frame.geometry.array, 7.0)
    report = do_import(db, write(frame, tmp_path / "z.gpkg"))
    assert any("dropped Z values from 2 feature(s)" in n for n in report.notes)
    with db.connect() as conn:
        assert conn.execute(text("SELECT max(ST_NDims(geom)) FROM features")).scalar_one() == 2


def test_wrong_geometry_type_refused(db, tmp_path):
    frame = terreinen(2)
    frame.loc[0, "geometry"] = shapely.Point(X0, Y0)
    exc = refused(db, write(frame, tmp_path / "mixed.geojson"))
    assert "is a Point, but this kind takes polygon geometries" in exc.lines[0]


def test_existing_name_refused_then_new_version(db, tmp_path):
    path = write(terreinen(2), tmp_path / "a.gpkg")
    first = do_import(db, path)
    with pytest.raises(LayerExists, match="already exists.*--new-version"):
        do_import(db, path)
    second = do_import(db, write(terreinen(3), tmp_path / "b.gpkg"), new_version=True)
    assert (first.layer.version, second.layer.version) == (1, 2)
    with db.connect() as conn:
        assert len(read_features(conn, "bt").fids) == 3
        assert len(read_features(conn, "bt", version=1).fids) == 2
        info = get_layer(conn, "bt")
    assert [v["feature_count"] for v in info.versions] == [2, 3]


def test_new_version_of_another_kind_refused(db, tmp_path):
    do_import(db, write(terreinen(1), tmp_path / "a.gpkg"))
    g = gpd.GeoDataFrame(
        {"statcode": ["GM0344"], "naam": ["Utrecht"]}, geometry=[square(X0, Y0)], crs=28992
    )
    with pytest.raises(LayerExists, match="same kind"):
        do_import(db, write(g, tmp_path / "g.gpkg"), kind="gemeenten", new_version=True)


def test_broken_files(db, tmp_path):
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [{"type": "Feat')
    with pytest.raises(UnreadableFile, match="cannot be"):
        do_import(db, broken)
    truncated = tmp_path / "trunc.gpkg"
    good = write(terreinen(3), tmp_path / "good.gpkg").read_bytes()
    truncated.write_bytes(good[: len(good) // 3])
    with pytest.raises(UnreadableFile):
        do_import(db, truncated)
    with pytest.raises(UnsupportedFormat, match="unsupported file type .txt"):
        do_import(db, tmp_path / "x.txt") if (tmp_path / "x.txt").write_text("x") else None
    assert table_counts(db) == {"layers": 0, "layer_versions": 0, "features": 0, "partitions": 0}


def test_oversized_file_refused(db, tmp_path):
    path = write(terreinen(50), tmp_path / "big.gpkg")
    with pytest.raises(FileTooLarge, match="the limit is"):
        do_import(db, path, policy=ImportPolicy(max_bytes=1000))


def test_zip_bomb_refused(db, tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("x.csv", "0" * 50_000_000)
    with pytest.raises(FileTooLarge, match="zip bomb|the limit"):
        do_import(db, bomb, policy=ImportPolicy(max_bytes=100_000_000))


def test_gpkg_with_several_layers_needs_source_layer(db, tmp_path):
    path = tmp_path / "multi.gpkg"
    write(terreinen(1), path, layer="een")
    write(terreinen(2), path, layer="twee")
    with pytest.raises(UnreadableFile, match="choose one with --source-layer: een, twee"):
        do_import(db, path)
    assert do_import(db, path, source_layer="twee").layer.feature_count == 2


def test_csv_wkt_and_xy(db, tmp_path):
    wkt = tmp_path / "t.csv"
    frame = terreinen(2)
    frame.assign(wkt=shapely.to_wkt(frame.geometry.array)).drop(columns="geometry").to_csv(
        wkt, index=False, sep=";"
    )
    report = do_import(db, wkt, crs="28992")
    assert report.layer.feature_count == 2

    pts = tmp_path / "v.csv"
    pts.write_text(
        "naam,sbi_code,milieucategorie,x,y\nSmederij,25.5,3.2,136100,456100\nRecycling,38.32,4.2,136200,456100\n"
    )
    report = do_import(db, pts, kind="vestigingen", name="vest", crs="28992")
    assert report.layer.geometry_type == "Point"


def test_csv_unreadable_wkt_named(db, tmp_path):
    path = tmp_path / "bad.csv"
    frame = terreinen(2)
    wkts = shapely.to_wkt(frame.geometry.array)
    wkts[1] = "POLYGON ((1 2, 3"
    frame.assign(wkt=wkts).drop(columns="geometry").to_csv(path, index=False)
    exc = refused(db, path, crs="28992")
    assert "feature 2 (naam 'Terrein 2'), field wkt: geometry is not readable WKT" in exc.lines[0]


def test_field_map_and_set(db, tmp_path):
    frame = terreinen(2).rename(columns={"naam": "TERREIN", "gemeente": "GM"})
    frame = frame.drop(columns=["type_werklocatie"])
    report = do_import(
        db,
        write(frame, tmp_path / "m.gpkg"),
        field_map={"naam": "TERREIN", "gemeente": "GM"},
        set_values={"type_werklocatie": "zeehaventerrein"},
    )
    with db.connect() as conn:
        props = read_features(conn, "bt").properties
    assert props["naam"].tolist() == ["Terrein 1", "Terrein 2"]
    assert set(props["type_werklocatie"]) == {"A"}
    assert report.layer.extra_fields == {}


def test_concurrent_duplicate_name_never_duplicates(db, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    path = write(terreinen(2), tmp_path / "c.gpkg")

    def attempt(_):
        try:
            do_import(db, path, name="race")
            return "ok"
        except LayerExists:
            return "exists"

    with ThreadPoolExecutor(4) as pool:
        results = sorted(pool.map(attempt, range(4)))
    assert results == ["exists", "exists", "exists", "ok"]
    assert table_counts(db) == {"layers": 1, "layer_versions": 1, "features": 2, "partitions": 1}


def test_quality_report_made_beside_the_store_is_the_sequential_one(db, tmp_path):
    """The import makes the data-quality report while the server stores the rows, with
    positions for fids (issue 14): stored, it is the report made afterwards, fids and all."""
    import geopandas as gpd

    from layers.importer import ImportPolicy, ImportRequest, import_file, prepare, store_quality
    from layers.kinds import load_kinds
    from layers.readers import read_source
    from layers.store import get_layer
    from tests.helpers import X0, Y0, square, terreinen, write

    gem = gpd.GeoDataFrame(
        {"statcode": ["GM0344", "GM0307"], "naam": ["Utrecht", "Amersfoort"]},
        geometry=[square(X0 - 500, Y0 - 500, 2600), square(X0 + 2100, Y0 - 500, 5000)],
        crs=28992,
    )
    policy = ImportPolicy()
    import_file(
        db,
        ImportRequest(path=write(gem, tmp_path / "g.gpkg"), kind="gemeenten", name="gemeenten"),
        policy,
    )
    frame = terreinen(6)  # bruto_ha 10-15 for polygons of 4 ha: every one deviates
    path = write(frame, tmp_path / "t.gpkg")  # the third crosses the border at x0 + 2100
    for name in ("eerste", "tweede"):  # the second's fids do not start at 1
        report = import_file(
            db, ImportRequest(path=path, kind="bedrijventerreinen", name=name), policy
        )
        with db.begin() as conn:
            info = get_layer(conn, name)
            stored = info.quality
            kind = load_kinds()["bedrijventerreinen"]
            prepared = prepare(read_source(path), kind, PrepareOptions(), policy)
            again = store_quality(conn, info, prepared, policy)
        assert stored == again == report.quality
        assert stored["bruto_area"]["count"] == 6 and stored["borders"]["count"] == 1
        fids = {
            t["fid"] for t in stored["bruto_area"]["terreinen"] + stored["borders"]["terreinen"]
        }
        with db.connect() as conn:
            known = set(
                conn.execute(
                    text("SELECT fid FROM features WHERE layer_id = :l"), {"l": info.id}
                ).scalars()
            )
        assert fids <= known
