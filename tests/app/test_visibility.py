"""One visibility rule on every read surface: what the public, viewers and other gemeenten'
editors read of a layer holds nothing of a draft, not even counts, extents or version notes.

A draft reservering of GM0344 is placed outside every other reservering (so it would widen
the layer's extent) and an adopted one is turned into a draft and back; then every read
surface of the README's access matrix is read by each role and compared with what it said
before the drafts existed.
"""

from __future__ import annotations

import io
import json
import math
import zipfile

import mapbox_vector_tile
import pyogrio
import pytest
from pyproj import Transformer

from tests.app.conftest import TOKENS, auth

RES = "/api/layers/reserveringen"
#: Roles that may not see a GM0344 draft, and roles that may.
BLIND = ["anoniem", "lezer", "amersfoort"]
SEEING = ["utrecht", "provincie"]
#: RD New, south-west of the province's bbox but within the import margin: no demo
#: reservering lies there, so a draft here widens the extent of the whole layer.
FAR_RD = (110_500.0, 427_500.0)
DRAFT_NAME = "Concept buiten beeld"


def headers(role: str) -> dict[str, str]:
    return auth(role) if role in TOKENS else {}


def square(x: float, y: float, size: float = 200.0) -> dict:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def reservering(naam: str, geometry: dict, draft: bool) -> dict:
    doc = {
        "type": "Feature",
        "properties": {"naam": naam, "gemeente": "GM0344", "doel": "opslag", "status": "zacht"},
        "geometry": geometry,
    }
    if draft:
        doc["draft"] = True
    return doc


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def surfaces(client, role: str) -> dict:
    """What ``role`` reads of the reserveringen on every read surface."""
    h = headers(role)
    meta = client.get(RES, headers=h).json()
    listed = next(
        lyr
        for lyr in client.get("/api/layers", headers=h).json()["layers"]
        if lyr["name"] == "reserveringen"
    )
    ogc = client.get("/ogc/collections/reserveringen", headers=h).json()
    ogc_all = next(
        c
        for c in client.get("/ogc/collections", headers=h).json()["collections"]
        if c["id"] == "reserveringen"
    )
    items = client.get("/ogc/collections/reserveringen/items?limit=1", headers=h).json()
    tilejson = client.get("/tiles/reserveringen.json", headers=h).json()
    download = client.get(f"{RES}/download?format=geojson", headers=h).json()
    return {
        "feature_count": meta["feature_count"],
        "bbox": meta["bbox"],
        "listed": (listed["feature_count"], listed["bbox"]),
        "ogc_extent": ogc["extent"]["spatial"]["bbox"],
        "ogc_all_extent": ogc_all["extent"]["spatial"]["bbox"],
        "numberMatched": items.get("numberMatched"),
        "tile_bounds": tilejson.get("bounds"),
        "download_count": len(download["features"]),
    }


@pytest.fixture(scope="module")
def scene(client, demo_engine):
    """Before and after: a far draft, and an adopted reservering made a draft and back."""
    before = {role: surfaces(client, role) for role in BLIND + SEEING}
    made = client.post(
        f"{RES}/features?crs=EPSG:28992",
        json=reservering(DRAFT_NAME, square(*FAR_RD), draft=True),
        headers=auth("provincie"),
    )
    assert made.status_code == 201, made.text
    draft = made.json()
    # An adopted reservering that the province makes a draft (public: deleted) and adopts
    # again (public: created anew); a gemeente-editor's writes are always concepts.
    x, y = 136_000.0, 455_000.0
    adopted = client.post(
        f"{RES}/features?crs=EPSG:28992",
        json=reservering("Eerst vastgesteld", square(x, y), draft=False),
        headers=auth("provincie"),
    ).json()
    fid = adopted["id"]
    tag = client.get(f"{RES}/features/{fid}", headers=auth("provincie")).headers["etag"]
    to_draft = client.put(
        f"{RES}/features/{fid}?crs=EPSG:28992",
        json=reservering("Geheim concept", square(x, y), draft=True),
        headers=auth("provincie") | {"If-Match": tag},
    )
    assert to_draft.status_code == 200, to_draft.text
    tag = to_draft.headers["etag"]
    back = client.put(
        f"{RES}/features/{fid}?crs=EPSG:28992",
        json=reservering("Weer vastgesteld", square(x, y), draft=False),
        headers=auth("provincie") | {"If-Match": tag},
    )
    assert back.status_code == 200, back.text
    return {
        "before": before,
        "draft_fid": draft["id"],
        "draft_version": draft["version"],
        "toggled_fid": fid,
        "hidden_version": to_draft.json()["version"],
        "created_version": adopted["version"],
        "back_version": back.json()["version"],
    }


@pytest.mark.parametrize("role", BLIND)
def test_counts_and_extents_leave_drafts_out(client, scene, role):
    before, now = scene["before"][role], surfaces(client, role)
    # one adopted reservering more (the one adopted again); the far draft is not there
    counted = ("feature_count", "numberMatched", "download_count")
    assert {k: now[k] - before[k] for k in counted} == dict.fromkeys(counted, 1)
    assert now["listed"] == (before["listed"][0] + 1, before["listed"][1])
    assert {k: v for k, v in now.items() if k not in counted and k != "listed"} == {
        k: v for k, v in before.items() if k not in counted and k != "listed"
    }


@pytest.mark.parametrize("role", SEEING)
def test_those_who_may_see_the_draft_count_it(client, scene, role):
    before, now = scene["before"][role], surfaces(client, role)
    assert now["feature_count"] == before["feature_count"] + 2
    assert now["listed"][0] == before["listed"][0] + 2
    assert now["download_count"] == before["download_count"] + 2
    # the far draft widens the extent to the south-west
    assert now["bbox"][0] < before["bbox"][0] and now["bbox"][1] < before["bbox"][1]
    assert now["ogc_extent"][0][0] < before["ogc_extent"][0][0]


@pytest.mark.parametrize("role", BLIND)
def test_version_notes_and_versions_list_say_nothing_of_drafts(client, scene, role):
    h = headers(role)
    draft, toggled = scene["draft_fid"], scene["toggled_fid"]
    meta = client.get(RES, headers=h)
    text = meta.text
    assert f"feature {draft}" not in text and "Geheim" not in text
    versions = {v["version"]: v for v in meta.json()["versions"]}
    # the draft's create changed nothing the role can see: that version is not listed
    assert scene["draft_version"] not in versions
    assert all(v.get("feature_fid") != draft for v in versions.values())
    # the adopted reservering made a draft reads as deleted, adopted again as created
    assert versions[scene["hidden_version"]]["change"] == "delete"
    assert versions[scene["back_version"]]["change"] == "create"
    assert versions[scene["created_version"]]["change"] == "create"
    # the counts per version leave the drafts out
    assert versions[scene["hidden_version"]]["feature_count"] == (
        versions[scene["created_version"]]["feature_count"] - 1
    )
    # a pinned version that is the draft's create: served, without its note
    pinned = client.get(f"{RES}?version={scene['draft_version']}", headers=h)
    assert pinned.status_code == 200
    assert f"feature {draft}" not in pinned.text
    assert pinned.json()["provenance"]["note"] is None
    assert pinned.json()["feature_count"] == scene["before"][role]["feature_count"]
    assert pinned.json()["bbox"] == scene["before"][role]["bbox"]
    hidden = client.get(f"{RES}?version={scene['hidden_version']}", headers=h).json()
    assert hidden["provenance"]["note"] == f"delete of feature {toggled} by provincie"


def test_the_province_reads_every_version_note(client, scene):
    meta = client.get(RES, headers=auth("provincie")).json()
    versions = {v["version"]: v for v in meta["versions"]}
    assert versions[scene["draft_version"]]["change"] == "create"
    assert versions[scene["hidden_version"]]["change"] == "update"
    pinned = client.get(f"{RES}?version={scene['draft_version']}", headers=auth("provincie"))
    assert f"create of feature {scene['draft_fid']}" in pinned.json()["provenance"]["note"]


@pytest.mark.parametrize("role", BLIND)
def test_history_holds_no_draft_state(client, scene, role):
    h = headers(role)
    assert client.get(f"{RES}/features/{scene['draft_fid']}/history", headers=h).status_code == 404
    hist = client.get(f"{RES}/features/{scene['toggled_fid']}/history", headers=h)
    assert hist.status_code == 200
    assert "Geheim" not in hist.text
    states = hist.json()["versions"]
    assert [s["feature"]["properties"]["naam"] for s in states] == [
        "Eerst vastgesteld",
        "Weer vastgesteld",
    ]
    assert states[0]["ended_change"] == "delete" and states[1]["change"] == "create"
    assert not any(s["draft"] for s in states)


def test_history_shows_every_state_to_its_gemeente(client, scene):
    hist = client.get(
        f"{RES}/features/{scene['toggled_fid']}/history", headers=auth("utrecht")
    ).json()
    assert [s["change"] for s in hist["versions"]] == ["create", "update", "update"]
    assert [s["draft"] for s in hist["versions"]] == [False, True, False]


@pytest.mark.parametrize("role", BLIND)
def test_tiles_pages_and_downloads_hold_no_draft(client, scene, role):
    h = headers(role)
    lon, lat = Transformer.from_crs(28992, 4326, always_xy=True).transform(
        FAR_RD[0] + 100, FAR_RD[1] + 100
    )
    z = 14
    x, y = tile_of(lon, lat, z)
    tile = client.get(f"/tiles/reserveringen/{z}/{x}/{y}.mvt", headers=h)
    assert tile.status_code == 200
    decoded = mapbox_vector_tile.decode(tile.content) if tile.content else {}
    assert not decoded.get("reserveringen", {}).get("features")
    for url in ("/", "/kaart", "/kaart/gemeente/GM0344", f"{RES}/download?format=csv"):
        resp = client.get(url, headers=h)
        assert resp.status_code == 200, url
        assert DRAFT_NAME not in resp.text and "Geheim" not in resp.text, url
    # the index lists the count the role may see (Dutch thousands separator)
    count = scene["before"][role]["feature_count"] + 1
    assert f">{count:,}<".replace(",", ".") in client.get("/", headers=h).text.replace(" ", "")
    # the feature itself and OGC items
    assert client.get(f"{RES}/features/{scene['draft_fid']}", headers=h).status_code == 404
    assert (
        client.get(
            f"/ogc/collections/reserveringen/items/{scene['draft_fid']}", headers=h
        ).status_code
        == 404
    )


def test_qgis_project_holds_no_draft(client, scene, tmp_path):
    resp = client.get("/api/qgis/project.zip")
    assert resp.status_code == 200
    with zipfile.ZipFile(io.BytesIO(resp.content)) as zf:
        gpkg_name = next(n for n in zf.namelist() if n.endswith(".gpkg"))
        data = zf.read(gpkg_name)
    gpkg = tmp_path / "project.gpkg"
    gpkg.write_bytes(data)
    table = pyogrio.read_dataframe(gpkg, layer="reserveringen")
    assert DRAFT_NAME not in set(table["naam"]) and "Geheim concept" not in set(table["naam"])
    assert len(table) == scene["before"]["anoniem"]["feature_count"] + 1


def test_features_api_agrees_with_the_public_count(client, scene):
    page = client.get(f"{RES}/features?limit=10000").json()
    ids = {f["id"] for f in page["features"]}
    assert scene["draft_fid"] not in ids
    assert len(ids) == client.get(RES).json()["feature_count"]
    assert json.loads(client.get(RES).text)["feature_count"] == len(ids)


@pytest.mark.parametrize("role", BLIND + SEEING)
def test_ogc_filters_and_outputs_follow_the_rule(client, scene, role):
    """CQL2 filters, sortby, CSV and GeoJSON sequences show a draft only to those who may see it."""
    h = headers(role)
    base = "/ogc/collections/reserveringen/items"
    by_name = {"filter": f"naam = '{DRAFT_NAME}'", "limit": 100}
    found = client.get(base, params=by_name, headers=h).json()
    sees = role in SEEING
    assert (found["numberMatched"] == 1) is sees
    match_all = {"filter": "naam LIKE '%'", "sortby": "-naam", "limit": 10_000}
    for fmt in ("csv", "geojsonseq", "json"):
        text = client.get(base, params={**match_all, "f": fmt}, headers=h).text
        assert (DRAFT_NAME in text) is sees, fmt
        assert "Geheim concept" not in text
    near = client.get(
        base,
        params={
            "filter": "S_INTERSECTS(geometry, BBOX(110000, 427000, 111500, 428500))",
            "filter-crs": "EPSG:28992",
        },
        headers=h,
    ).json()
    assert (scene["draft_fid"] in {f["id"] for f in near["features"]}) is sees
