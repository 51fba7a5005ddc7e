"""GDAL's OAPIF driver (ogrinfo, ogr2ogr from Debian's GDAL) against the live service."""

from __future__ import annotations

import re
import shutil
import subprocess

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
