"""Import → export → import gives the same geometries (within 1 mm) and attributes."""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import geopandas as gpd
import numpy as np
import pytest
import shapely

from layers.errors import LayerError
from layers.exporter import export_layer, shapefile_field_names
from layers.importer import ImportPolicy, ImportRequest, PrepareOptions, import_file
from layers.store import read_features
from tests.helpers import X0, Y0, square, terreinen, write

FORMATS = ["gpkg", "geojson", "shp", "fgb", "csv"]
SUFFIX = {"gpkg": ".gpkg", "geojson": ".geojson", "shp": ".zip", "fgb": ".fgb", "csv": ".csv"}


def reserveringen() -> gpd.GeoDataFrame:
    rows = [
        {
            "naam": "Bouwhub Lage Weide",
            "gemeente": "GM0344",
            "doel": "bouwhub voor circulair bouwmateriaal",
            "functie": "bouwhub",
            "status": "hard",
            "planreferentie": "Omgevingsplan Utrecht",
            "geldig_van": dt.date(2026, 1, 1),
            "geldig_tot": dt.date(2035, 12, 31),
            "opmerking_lange_naam": "ë ü €",
        },
        {
            "naam": None,
            "gemeente": "GM0307",
            "doel": "sorteercentrum",
            "functie": None,
            "status": "zacht",
            "planreferentie": None,
            "geldig_van": None,
            "geldig_tot": None,
            "opmerking_lange_naam": None,
        },
    ]
    # A polygon with a hole and odd coordinates, to see precision survive.
    outer = [
        (X0 + 0.123456, Y0 + 0.654321),
        (X0 + 300.5, Y0),
        (X0 + 300.5, Y0 + 250.25),
        (X0, Y0 + 250.25),
    ]
    hole = [(X0 + 50, Y0 + 50), (X0 + 60, Y0 + 50), (X0 + 60, Y0 + 60)]
    geoms = [shapely.Polygon(outer, [hole]), square(X0 + 1000, Y0 + 1000, 123.4567)]
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=28992)


def _import(engine, path, name, kind, crs=None):
    req = ImportRequest(path=path, kind=kind, name=name, options=PrepareOptions(crs=crs))
    return import_file(engine, req, ImportPolicy())


def _same(engine, a, b):
    with engine.connect() as conn:
        fa, fb = read_features(conn, a), read_features(conn, b)
    assert len(fa.fids) == len(fb.fids)
    # FlatGeobuf's spatial index reorders features: compare in a canonical order.
    oa, ob = _order(fa), _order(fb)
    fa.geometries, fb.geometries = fa.geometries[oa], fb.geometries[ob]
    fa.properties = fa.properties.iloc[oa].reset_index(drop=True)
    fb.properties = fb.properties.iloc[ob].reset_index(drop=True)
    for ga, gb in zip(fa.geometries, fb.geometries, strict=True):
        assert ga.geom_type.replace("Multi", "") == gb.geom_type.replace("Multi", "")
        assert shapely.hausdorff_distance(ga, gb) < 0.001
        assert abs(ga.area - gb.area) < ga.length * 0.001  # within 1 mm along the boundary
    pa = fa.properties.reindex(sorted(fa.properties.columns), axis=1)
    pb = fb.properties.reindex(sorted(fb.properties.columns), axis=1)
    assert pa.to_dict("records") == pb.to_dict("records")
    assert fa.info.extra_fields == fb.info.extra_fields


def _order(ff):
    centroids = shapely.centroid(ff.geometries)
    keys = [(round(c.x, 2), round(c.y, 2)) for c in centroids]
    return np.array(sorted(range(len(keys)), key=keys.__getitem__))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", ["bedrijventerreinen", "reserveringen"])
def test_roundtrip(db, tmp_path, fmt, kind):
    frame = terreinen(3) if kind == "bedrijventerreinen" else reserveringen()
    _import(db, write(frame, tmp_path / "src.gpkg"), "src", kind)
    out = tmp_path / f"out{SUFFIX[fmt]}"
    with db.connect() as conn:
        result = export_layer(conn, "src", fmt, out)
    assert result.feature_count == len(frame)
    _import(db, out, "back", kind, crs=None)
    _same(db, "src", "back")


def test_geojson_is_rfc7946_wgs84_by_default(db, tmp_path):
    _import(db, write(terreinen(1), tmp_path / "src.gpkg"), "src", "bedrijventerreinen")
    out = tmp_path / "out.geojson"
    with db.connect() as conn:
        export_layer(conn, "src", "geojson", out)
        export_layer(conn, "src", "geojson", tmp_path / "rd.geojson", crs="28992")
    doc = json.loads(out.read_text())
    assert "crs" not in doc
    x, y = doc["features"][0]["geometry"]["coordinates"][0][0]
    assert 3 < x < 8 and 50 < y < 54
    ring = shapely.LinearRing(doc["features"][0]["geometry"]["coordinates"][0])
    assert ring.is_ccw  # RFC 7946: exterior rings counterclockwise
    rd = json.loads((tmp_path / "rd.geojson").read_text())
    assert "28992" in json.dumps(rd["crs"])
    assert rd["features"][0]["geometry"]["coordinates"][0][0][0] == pytest.approx(X0, abs=300)


def test_gpkg_reads_cleanly_in_gdal_36(db, tmp_path):
    _import(db, write(reserveringen(), tmp_path / "src.gpkg"), "src", "reserveringen")
    out = tmp_path / "out.gpkg"
    with db.connect() as conn:
        export_layer(conn, "src", "gpkg", out)
    proc = subprocess.run(
        ["ogrinfo", "-al", "-so", str(out)], capture_output=True, text=True, check=True
    )
    assert proc.stderr == ""
    assert "Feature Count: 2" in proc.stdout
    assert "geldig_van: Date" in proc.stdout
    assert 'ID["EPSG",28992]' in proc.stdout


def test_shapefile_zip_has_prj_and_field_mapping(db, tmp_path):
    import zipfile

    _import(db, write(reserveringen(), tmp_path / "src.gpkg"), "src", "reserveringen")
    out = tmp_path / "out.zip"
    with db.connect() as conn:
        export_layer(conn, "src", "shp", out)
    names = zipfile.ZipFile(out).namelist()
    assert {"src.shp", "src.shx", "src.dbf", "src.prj", "src.cpg", "fieldnames.csv"} <= set(names)
    mapping = zipfile.ZipFile(out).read("fieldnames.csv").decode()
    assert "opmerking_lange_naam,opmerking_\r\n" in mapping
    proc = subprocess.run(
        ["ogrinfo", "-al", "-so", f"/vsizip/{out}/src.shp"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Feature Count: 2" in proc.stdout and "Amersfoort / RD New" in proc.stdout


def test_shapefile_field_names_predictable():
    names = ["ontsluiting_water", "ontsluiting_spoor", "ontsluiting_weg", "naam"]
    assert shapefile_field_names(names) == {
        "ontsluiting_water": "ontsluitin",
        "ontsluiting_spoor": "ontsluit_1",
        "ontsluiting_weg": "ontsluit_2",
        "naam": "naam",
    }


def test_mixed_geometry_layer_exports_except_shapefile(db, tmp_path):
    rows = [
        {"naam": "Hub", "element": "knooppunt", "schaalniveau": "regio"},
        {"naam": "Keten", "element": "verbinding", "schaalniveau": "regio"},
    ]
    geoms = [shapely.Point(X0, Y0), shapely.LineString([(X0, Y0), (X0 + 5000, Y0 + 3000)])]
    frame = gpd.GeoDataFrame(rows, geometry=geoms, crs=28992)
    _import(db, write(frame, tmp_path / "h.geojson"), "hs", "hoofdstructuur")
    with db.connect() as conn:
        with pytest.raises(LayerError, match="one geometry type"):
            export_layer(conn, "hs", "shp", tmp_path / "h.zip")
        export_layer(conn, "hs", "gpkg", tmp_path / "h.gpkg")
    # a GeoPackage table per geometry type (named like the OGC API's collections)
    points = gpd.read_file(tmp_path / "h.gpkg", layer="hs-knooppunten")
    lines = gpd.read_file(tmp_path / "h.gpkg", layer="hs-verbindingen")
    assert list(points.geom_type) == ["Point"] and list(lines.geom_type) == ["LineString"]
    assert np.allclose(points.geometry.iloc[0].coords[0], (X0, Y0))
