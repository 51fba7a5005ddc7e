"""GDAL's OAPIF driver (ogrinfo, ogr2ogr from Debian's GDAL) against the live service."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from datetime import date
from urllib.parse import unquote

import numpy as np
import pyogrio
import pytest
import shapely

from layers.store import read_features
from spatial.crs import RD_NEW, WGS84, reproject
from tests.ogc.conftest import GEMEENTEN_LAYER, gemeenten_source

pytestmark = pytest.mark.skipif(
    shutil.which("ogr2ogr") is None, reason="GDAL command-line tools not installed"
)


def run(*args: str) -> str:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_ogrinfo_lists_the_collections_and_counts(ogc_server, ogc_client):
    out = run("ogrinfo", "-ro", "-q", f"OAPIF:{ogc_server.url}/ogc")
    for name in ("gemeenten", "bedrijventerreinen", "reserveringen", "vestigingen"):
        assert name in out
    info = run(
        "ogrinfo", "-ro", "-so", f"OAPIF:{ogc_server.url}/ogc", "reserveringen"
    )  # GDAL 3.6: no -json
    count = int(re.search(r"Feature Count: (\d+)", info).group(1))
    assert (
        count
        == ogc_client.get("/ogc/collections/reserveringen/items?limit=1000").json()["numberMatched"]
    )
    for field in ("naam: String", "gemeente: String", "status: String", "geldig_van: Date"):
        assert field in info


def test_ogr2ogr_gemeenten_round_trip_within_1_m(ogc_server, ogc_db, shared_data, tmp_path):
    """Acceptance: 26 features matching the source (the real CBS gemeenten) within 1 m."""
    assert ogc_db.real_gemeenten
    out = tmp_path / "out.gpkg"
    run("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{ogc_server.url}/ogc", "gemeenten")
    got = pyogrio.read_dataframe(out)
    assert len(got) == 26
    source = pyogrio.read_dataframe(gemeenten_source(), layer=GEMEENTEN_LAYER).to_crs(RD_NEW)
    code = next(c for c in source.columns if c.lower() in ("statcode", "gemeentecode"))
    src = dict(zip(source[code], source.geometry, strict=True))
    back = reproject(np.asarray(got.geometry.array, dtype=object), WGS84, RD_NEW)
    assert set(got["statcode"]) == set(src)
    worst = max(
        shapely.hausdorff_distance(shapely.make_valid(g), src[s])
        for s, g in zip(got["statcode"], back, strict=True)
    )
    assert worst < 1.0, f"largest difference {worst:.3f} m"
    # And the service itself serves what is stored (read back in RD).
    with ogc_db.engine.connect() as conn:
        ff = read_features(conn, "gemeenten")
    assert sorted(ff.properties["naam"]) == sorted(got["naam"])


def test_ogr2ogr_pages_through_a_larger_layer(ogc_server, ogc_db, tmp_path):
    out = tmp_path / "v.gpkg"
    run(
        "ogr2ogr",
        "-f",
        "GPKG",
        str(out),
        f"OAPIF:{ogc_server.url}/ogc",
        "vestigingen",
        "-oo",
        "PAGE_SIZE=1000",
    )
    with ogc_db.engine.connect() as conn:
        fids = read_features(conn, "vestigingen").fids
    got = pyogrio.read_dataframe(out)
    assert len(got) == len(fids) > 3000


def test_gdal_attribute_and_spatial_filters(ogc_server, ogc_client):
    expected = ogc_client.get("/ogc/collections/reserveringen/items?status=hard&limit=1000").json()[
        "numberReturned"
    ]
    out = run(
        "ogrinfo",
        "-ro",
        "-q",
        "-where",
        "status = 'hard'",
        f"OAPIF:{ogc_server.url}/ogc",
        "reserveringen",
    )
    assert out.count("OGRFeature(reserveringen)") == expected
    box = ogc_client.get(
        "/ogc/collections/vestigingen/items?bbox=5.05,52.05,5.15,52.12&limit=5000"
    ).json()
    out = run(
        "ogrinfo",
        "-ro",
        "-q",
        "-spat",
        "5.05",
        "52.05",
        "5.15",
        "52.12",
        f"OAPIF:{ogc_server.url}/ogc",
        "vestigingen",
    )
    assert out.count("OGRFeature(vestigingen)") == box["numberReturned"] > 0


def _access_log(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]


def _reserveringen(ogc_db):
    with ogc_db.engine.connect() as conn:
        return read_features(conn, "reserveringen")


def test_gdal_sends_an_attribute_where_to_the_server(ogc_server, ogc_db, caplog):
    """Acceptance: the filter reaches the server (its access log shows it), the count is right."""
    ff = _reserveringen(ogc_db)
    expected = int((ff.properties["status"] == "hard").sum())
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        out = run(
            "ogrinfo",
            "-ro",
            "-q",
            "-where",
            "status = 'hard'",
            f"OAPIF:{ogc_server.url}/ogc",
            "reserveringen",
        )
    assert out.count("OGRFeature(reserveringen)") == expected > 0
    items = [line for line in _access_log(caplog) if "/collections/reserveringen/items" in line]
    assert any("status" in unquote(line) and "hard" in line for line in items), items


@pytest.mark.parametrize(
    ("where", "field", "select"),
    [
        # On the validity period (what ``datetime`` selects) these would match every feature.
        ("geldig_van >= '2024-06-01'", "geldig_van", lambda d: d >= date(2024, 6, 1)),
        ("geldig_tot < '2040-01-01'", "geldig_tot", lambda d: d < date(2040, 1, 1)),
        (
            "geldig_van BETWEEN '2023-01-01' AND '2023-12-31'",
            "geldig_van",
            lambda d: date(2023, 1, 1) <= d <= date(2023, 12, 31),
        ),
    ],
)
def test_gdal_date_field_where_gives_the_right_features(
    ogc_server, ogc_db, caplog, where, field, select
):
    """GDAL 3.6 turns a date comparison into ``datetime`` unless the server takes CQL text:
    it does, so the comparison is on the field itself."""
    ff = _reserveringen(ogc_db)
    values = [date.fromisoformat(v) for v in ff.properties[field] if isinstance(v, str)]
    expected = sum(1 for d in values if select(d))
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        out = run(
            "ogrinfo", "-ro", "-q", "-where", where, f"OAPIF:{ogc_server.url}/ogc", "reserveringen"
        )
    assert 0 < out.count("OGRFeature(reserveringen)") == expected < len(ff.fids)
    items = [line for line in _access_log(caplog) if "/collections/reserveringen/items" in line]
    assert any(field in unquote(line) for line in items) and not any(
        "datetime=" in line for line in items
    ), items


def test_gdal_page_size_above_the_maximum_completes(ogc_server, ogc_db, tmp_path):
    out = tmp_path / "v.gpkg"
    run(
        "ogr2ogr",
        "-f",
        "GPKG",
        str(out),
        f"OAPIF:{ogc_server.url}/ogc",
        "vestigingen",
        "-oo",
        "PAGE_SIZE=20000",
    )
    with ogc_db.engine.connect() as conn:
        fids = read_features(conn, "vestigingen").fids
    assert len(pyogrio.read_dataframe(out)) == len(fids) > 3000


@pytest.mark.parametrize(
    ("collection", "family"),
    [
        ("hoofdstructuur-knooppunten", "Point"),
        ("hoofdstructuur-verbindingen", "LineString"),
        ("hoofdstructuur-deelgebieden", "Polygon"),
    ],
)
def test_hoofdstructuur_collections_copy_to_geopackage_without_warnings(
    ogc_server, tmp_path, collection, family
):
    """Acceptance: one geometry type per collection, so GDAL types the layer right and the
    GeoPackage write says nothing about mismatched geometry types."""
    out = tmp_path / f"{collection}.gpkg"
    proc = subprocess.run(
        ["ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{ogc_server.url}/ogc", collection],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    info = pyogrio.read_info(out)
    assert info["geometry_type"].replace("Multi", "") == family and info["features"] > 0
