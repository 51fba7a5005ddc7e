"""The foundation issue's acceptance points, run through the real ``ruimte`` command."""

from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import text

from tests.helpers import X0, Y0, bowtie, geojson_with_crs, square, table_counts, terreinen, write

pytestmark = pytest.mark.shared_data


def test_real_gemeenten_import_area_and_gpkg_export(ruimte, db, shared_data, tmp_path):
    src = shared_data / "cbs_gemeenten_provincie_utrecht_2025.gpkg"
    proc = ruimte(
        "layers",
        "import",
        src,
        "--source-layer",
        "gemeente_2025_utrecht",
        "--kind",
        "gemeenten",
        "--name",
        "gemeenten",
        check=True,
    )
    assert "imported 26 feature(s)" in proc.stdout
    with db.connect() as conn:
        n, area_km2 = conn.execute(
            text(
                "SELECT count(*), sum(ST_Area(geom)) / 1e6 FROM features f JOIN layers l ON l.id = f.layer_id "
                "WHERE l.name = 'gemeenten' AND f.version_to IS NULL"
            )
        ).one()
        srid = conn.execute(text("SELECT DISTINCT ST_SRID(geom) FROM features")).scalar_one()
    assert n == 26
    assert srid == 28992
    assert area_km2 == pytest.approx(1551.5, rel=0.001)

    out = tmp_path / "gemeenten.gpkg"
    ruimte("layers", "export", "gemeenten", "--format", "gpkg", "--output", out, check=True)
    info = subprocess.run(
        ["ogrinfo", "-so", "-al", str(out)], capture_output=True, text=True, check=True
    )
    assert "Feature Count: 26" in info.stdout
    assert 'ID["EPSG",28992]' in info.stdout
    assert "Warning" not in info.stderr and "ERROR" not in info.stderr, info.stderr


def test_natura2000_imports_as_constraints(ruimte, db, shared_data):
    proc = ruimte(
        "layers",
        "import",
        shared_data / "natura2000_provincie_utrecht_5km.gpkg",
        "--kind",
        "constraints",
        "--name",
        "natura2000",
        "--set",
        "category=natuur",
        check=True,
    )
    assert "imported 17 feature(s)" in proc.stdout
    with db.connect() as conn:
        cats = (
            conn.execute(text("SELECT DISTINCT properties->>'category' FROM features"))
            .scalars()
            .all()
        )
        names = conn.execute(
            text("SELECT count(DISTINCT properties->>'naam') FROM features")
        ).scalar_one()
    assert cats == ["natuur"]
    assert names == 17


def test_one_self_intersecting_polygon_refused_then_repaired(ruimte, db, tmp_path):
    frame = terreinen(4)
    frame.loc[2, "geometry"] = bowtie(X0 + 2000, Y0)
    path = write(frame, tmp_path / "terreinen.gpkg")
    before = table_counts(db)

    proc = ruimte("layers", "import", path, "--kind", "bedrijventerreinen", "--name", "bt")
    assert proc.returncode != 0
    assert "feature 3 (naam 'Terrein 3')" in proc.stderr
    assert "Self-intersection" in proc.stderr
    assert "nothing was stored" in proc.stderr
    assert table_counts(db) == before

    proc = ruimte(
        "layers",
        "import",
        path,
        "--kind",
        "bedrijventerreinen",
        "--name",
        "bt",
        "--repair",
        check=True,
    )
    assert "imported 4 feature(s)" in proc.stdout
    assert "repaired:" in proc.stderr and "feature 3" in proc.stderr
    with db.connect() as conn:
        valid = conn.execute(text("SELECT bool_and(ST_IsValid(geom)) FROM features")).scalar_one()
    assert valid


def test_lonlat_declared_as_rd_is_refused(ruimte, db, tmp_path):
    features = [
        {
            "type": "Feature",
            "properties": {"statcode": "GM0344", "naam": "Utrecht"},
            "geometry": shapely_to_geojson_lonlat(),
        }
    ]
    path = geojson_with_crs(
        features, "urn:ogc:def:crs:EPSG::28992", tmp_path / "lonlat_as_rd.geojson"
    )
    before = table_counts(db)
    proc = ruimte("layers", "import", path, "--kind", "gemeenten", "--name", "g")
    assert proc.returncode == 1
    assert "look like longitude/latitude degrees" in proc.stderr
    assert "EPSG:28992" in proc.stderr
    assert table_counts(db) == before


def shapely_to_geojson_lonlat() -> dict:
    return {
        "type": "Polygon",
        "coordinates": [
            [[5.10, 52.08], [5.13, 52.08], [5.13, 52.10], [5.10, 52.10], [5.10, 52.08]]
        ],
    }


def test_import_gemeenten_from_wgs84_geojson_matches_rd(ruimte, db, shared_data):
    ruimte(
        "layers",
        "import",
        shared_data / "cbs_gemeenten_provincie_utrecht_2025_wgs84.geojson",
        "--kind",
        "gemeenten",
        "--name",
        "gemeenten_wgs84",
        check=True,
    )
    with db.connect() as conn:
        area = conn.execute(text("SELECT sum(ST_Area(geom)) / 1e6 FROM features")).scalar_one()
    assert area == pytest.approx(1551.5, rel=0.001)


def test_square_is_stored_where_it_was_drawn(ruimte, db, tmp_path):
    frame = terreinen(1)
    frame.loc[0, "geometry"] = square(X0, Y0, 100.0)
    ruimte(
        "layers",
        "import",
        write(frame, tmp_path / "one.gpkg"),
        "--kind",
        "bedrijventerreinen",
        "--name",
        "one",
        check=True,
    )
    with db.connect() as conn:
        area, minx, miny = conn.execute(
            text("SELECT ST_Area(geom), ST_XMin(geom), ST_YMin(geom) FROM features")
        ).one()
    assert (area, minx, miny) == (10_000.0, X0, Y0)
