"""The CBS 2025 boundaries shipped as package data, and their TopoJSON decoding (no database)."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import tomllib

import numpy as np
import pyogrio
import pytest
import shapely

from layers import boundaries
from layers.boundaries import BoundaryError
from layers.errors import UnreadableFile
from tests.conftest import ROOT

#: Gemeenten per province, as checked independently in ../shared/data/PROVENANCE.md §1b.
PER_PROVINCE = {
    "PV20": 10,
    "PV21": 18,
    "PV22": 12,
    "PV23": 25,
    "PV24": 6,
    "PV25": 51,
    "PV26": 26,
    "PV27": 44,
    "PV28": 50,
    "PV29": 13,
    "PV30": 56,
    "PV31": 31,
}
#: The province of Utrecht, CBS 2025 (generalised): 1,551.5 km².
UTRECHT_KM2 = 1_551.5


def test_342_valid_gemeenten_in_rd():
    gem = boundaries.gemeenten()
    assert len(gem) == 342
    assert gem.crs.to_epsg() == 28992
    assert gem["statcode"].is_unique and gem["statcode"].str.match(r"^GM\d{4}$").all()
    assert (gem["naam"].str.len() > 0).all()
    assert shapely.is_valid(gem.geometry.to_numpy()).all()
    assert set(gem.geom_type) == {"Polygon", "MultiPolygon"}
    assert list(gem["statcode"]) == sorted(gem["statcode"])
    names = dict(zip(gem["statcode"], gem["naam"], strict=True))
    assert names["GM0344"] == "Utrecht" and names["GM0363"] == "Amsterdam"
    assert names["GM1961"] == "Vijfheerenlanden"
    # RD metres on the 1 m grid of the source
    xy = shapely.get_coordinates(gem.geometry.to_numpy())
    assert np.array_equal(xy, np.round(xy))
    assert 0 < xy[:, 0].min() and xy[:, 0].max() < 300_000
    assert 300_000 < xy[:, 1].min() and xy[:, 1].max() < 630_000


def test_12_valid_provinces():
    prov = boundaries.provincies()
    assert list(prov["statcode"]) == sorted(PER_PROVINCE)
    assert shapely.is_valid(prov.geometry.to_numpy()).all()
    assert dict(zip(prov["statcode"], prov["naam"], strict=True))["PV21"] == "Fryslân"


def test_membership_by_largest_overlap():
    gem, prov = boundaries.gemeenten(), boundaries.provincies()
    member = boundaries.membership(gem, prov)
    assert member.notna().all()
    assert member.value_counts().to_dict() == PER_PROVINCE
    # the largest overlap agrees with the province holding each gemeente's representative point
    points = shapely.point_on_surface(gem.geometry.to_numpy())
    holder = [prov["statcode"][prov.contains(p)].tolist() for p in points]
    assert [h[0] if len(h) == 1 else None for h in holder] == member.tolist()


def test_utrecht_has_26_gemeenten_of_1551_km2():
    utrecht = boundaries.gemeenten_of("PV26")
    assert len(utrecht) == 26
    assert float(utrecht.area.sum()) / 1e6 == pytest.approx(UTRECHT_KM2, rel=0.001)
    assert {"GM0344", "GM0307", "GM1581", "GM1961"} <= set(utrecht["statcode"])
    assert not {"GM0363", "GM0228"} & set(utrecht["statcode"])  # Amsterdam, Ede: neighbours
    outline = shapely.union_all(utrecht.geometry.to_numpy())
    assert outline.geom_type == "Polygon" and not outline.interiors
    # the separately generalised province polygon differs from the union by about 1 %
    province = boundaries.province("Utrecht").geometry
    assert outline.symmetric_difference(province).area / outline.area < 0.015


@pytest.mark.parametrize("given", ["PV26", "pv26", "26", "Utrecht", " utrecht "])
def test_province_by_code_number_or_name(given):
    assert boundaries.province(given).statcode == "PV26"


def test_unknown_province_is_refused_with_the_known_ones():
    with pytest.raises(BoundaryError) as exc:
        boundaries.gemeenten_of("Gelre")
    assert "'Gelre' is not a province" in exc.value.message
    assert "PV26 Utrecht" in exc.value.message and "PV31 Limburg" in exc.value.message


@pytest.mark.shared_data
def test_shipped_boundaries_equal_the_independently_decoded_copy(shared_data):
    """The 26 decoded here are the polygons of ../shared/data (decoded by another routine)."""
    ref = pyogrio.read_dataframe(
        shared_data / "cbs_gemeenten_provincie_utrecht_2025.gpkg", layer="gemeente_2025_utrecht"
    )
    ours = boundaries.gemeenten_of("PV26").set_index("statcode")
    assert sorted(ref["statcode"]) == list(ours.index)
    for code, geom in zip(ref["statcode"], ref.geometry, strict=True):
        assert ours.geometry[code].symmetric_difference(geom).area < 1.0, code
    assert dict(zip(ref["statcode"], ref["statnaam"], strict=True)) == ours["naam"].to_dict()


# -- the decoder on a small hand-made topology ------------------------------------------

#: Two unit squares sharing their middle edge: arc 0 is the shared edge, used reversed (~0)
#: by the right square; coordinates are quantised and delta-encoded, as in the shipped files.
TWO_SQUARES = {
    "type": "Topology",
    "transform": {"scale": [10, 10], "translate": [100000, 400000]},
    "arcs": [
        [[1, 0], [0, 1]],  # shared edge (1,0) → (1,1)
        [[1, 1], [-1, 0], [0, -1], [1, 0]],  # left square's other three sides
        [[1, 0], [1, 0], [0, 1], [-1, 0]],  # right square's other three sides
    ],
    "objects": {
        "vakken": {
            "type": "GeometryCollection",
            "geometries": [
                {"type": "Polygon", "arcs": [[0, 1]], "properties": {"statcode": "GM0001"}},
                {"type": "Polygon", "arcs": [[2, ~0]], "properties": {"statcode": "GM0002"}},
            ],
        }
    },
}


def test_decoder_applies_transform_deltas_and_reversed_arcs(tmp_path):
    path = tmp_path / "vakken.topojson"
    path.write_text(json.dumps(TWO_SQUARES))
    frame = boundaries.read_topojson(path)
    assert frame.crs.to_epsg() == 28992
    assert list(frame["statcode"]) == ["GM0001", "GM0002"]
    left = shapely.box(100000, 400000, 100010, 400010)
    right = shapely.box(100010, 400000, 100020, 400010)
    for got, want in zip(frame.geometry, [left, right], strict=True):
        assert got.is_valid and got.symmetric_difference(want).area == 0
    assert frame.geometry[0].intersection(frame.geometry[1]).length == 10


def test_decoder_refuses_missing_objects_and_other_files(tmp_path):
    path = tmp_path / "vakken.topojson"
    path.write_text(json.dumps(TWO_SQUARES))
    with pytest.raises(UnreadableFile, match="no object 'gemeenten'; its objects: vakken"):
        boundaries.read_topojson(path, "gemeenten")
    broken = tmp_path / "broken.topojson"
    broken.write_text("not json")
    with pytest.raises(UnreadableFile, match="broken.topojson: cannot be read as TopoJSON"):
        boundaries.read_topojson(broken)
    with pytest.raises(UnreadableFile, match="cannot be read"):
        boundaries.read_topojson(tmp_path / "absent.topojson")


# -- package data -----------------------------------------------------------------------


def test_files_are_package_data_with_their_attribution():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = config["package-data"]
    shipped = [boundaries.GEMEENTEN_FILE, boundaries.PROVINCIES_FILE]
    for path in shipped:
        assert any(fnmatch.fnmatch(path.name, p) for p in patterns["*"]), path.name
    assert "data/boundaries/README.md" in patterns["layers"]
    readme = (boundaries.BOUNDARIES_DIR / "README.md").read_text()
    assert boundaries.ATTRIBUTION in readme
    assert "GPL-2" in readme and "not fully" in readme  # the licence caveat of PROVENANCE.md
    for path in shipped:
        assert hashlib.sha256(path.read_bytes()).hexdigest() in readme, path.name
