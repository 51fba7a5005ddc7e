"""OGC API – Tiles and Styles: tile matrix sets (morecantile), tilesets per collection, tiles,
TileJSON per tile matrix set, MapLibre styles from styles.yaml; 400 for every bad index."""

from __future__ import annotations

import mapbox_vector_tile
import morecantile
import pytest

from layers.tiles import NETHERLANDS_RD_NEW_QUAD

UTRECHT_WEB = (10, 525, 337)  # z, x (column), y (row): the city of Utrecht


def _rd_tile_at(x_rd: float, y_rd: float, z: int) -> tuple[int, int]:
    size = NETHERLANDS_RD_NEW_QUAD.size / (1 << z)
    minx, _, _, maxy = NETHERLANDS_RD_NEW_QUAD.bounds
    return int((x_rd - minx) / size), int((maxy - y_rd) / size)


def test_tile_matrix_sets_are_listed_and_valid_tms_documents(ogc_client):
    doc = ogc_client.get("/ogc/tileMatrixSets").json()
    ids = {t["id"] for t in doc["tileMatrixSets"]}
    assert ids == {"WebMercatorQuad", "NetherlandsRDNewQuad"}
    rd = ogc_client.get("/ogc/tileMatrixSets/NetherlandsRDNewQuad")
    assert rd.status_code == 200
    tms = morecantile.TileMatrixSet.model_validate(rd.json())
    assert tms.crs.to_epsg() == 28992 and len(rd.json()["tileMatrices"]) == 17
    assert rd.json()["tileMatrices"][0]["scaleDenominator"] == 12288000
    assert ogc_client.get("/ogc/tileMatrixSets/nope").status_code == 404
    landing = {link["rel"] for link in ogc_client.get("/ogc").json()["links"]}
    assert "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes" in landing


def test_a_collection_has_a_tileset_per_matrix_set_with_a_working_template(ogc_client):
    meta = ogc_client.get("/ogc/collections/bedrijventerreinen").json()
    tiles_link = next(
        link["href"] for link in meta["links"] if link["rel"].endswith("/tilesets-vector")
    )
    sets = ogc_client.get(tiles_link).json()["tilesets"]
    assert {s["tileMatrixSetURI"].rsplit("/", 1)[1] for s in sets} == {
        "WebMercatorQuad",
        "NetherlandsRDNewQuad",
    }
    web = next(s for s in sets if s["tileMatrixSetURI"].endswith("WebMercatorQuad"))
    self_href = next(link["href"] for link in web["links"] if link["rel"] == "self")
    tileset = ogc_client.get(self_href).json()
    template = next(link for link in tileset["links"] if link["rel"] == "item")
    assert template["templated"] and template["type"] == "application/vnd.mapbox-vector-tile"
    z, x, y = UTRECHT_WEB
    url = template["href"].format(tileMatrix=z, tileRow=y, tileCol=x)
    ogc = ogc_client.get(url)
    assert (
        ogc.status_code == 200
        and ogc.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    )
    assert ogc.content == ogc_client.get(f"/tiles/bedrijventerreinen/{z}/{x}/{y}.mvt").content
    assert mapbox_vector_tile.decode(ogc.content)["bedrijventerreinen"]["features"]


def test_rd_new_tiles_are_found_through_the_tileset(ogc_client):
    z = 8
    col, row = _rd_tile_at(136_000, 456_000, z)
    url = f"/ogc/collections/bedrijventerreinen/tiles/NetherlandsRDNewQuad/{z}/{row}/{col}"
    resp = ogc_client.get(url)
    assert resp.status_code == 200
    assert mapbox_vector_tile.decode(resp.content)["bedrijventerreinen"]["features"]
    tj = ogc_client.get(
        "/ogc/collections/bedrijventerreinen/tiles/NetherlandsRDNewQuad/tilejson"
    ).json()
    assert tj["tiles"][0].endswith("/NetherlandsRDNewQuad/{z}/{y}/{x}")
    assert tj["crs"].endswith("/28992") and tj["maxzoom"] == 16


@pytest.mark.parametrize(
    "index",
    [
        "WebMercatorQuad/25/0/0",
        "WebMercatorQuad/3/0/8",
        "WebMercatorQuad/3/8/0",
        "WebMercatorQuad/-1/0/0",
        "WebMercatorQuad/x/0/0",
        "WebMercatorQuad/10/99999999999/0",
        "NetherlandsRDNewQuad/17/0/0",
        "NetherlandsRDNewQuad/2/0/4",
    ],
)
def test_every_bad_tile_index_is_400(ogc_client, index):
    resp = ogc_client.get(f"/ogc/collections/bedrijventerreinen/tiles/{index}")
    assert resp.status_code == 400, resp.text


def test_unknown_matrix_set_or_collection_is_404(ogc_client):
    assert ogc_client.get("/ogc/collections/bedrijventerreinen/tiles/Nope/1/0/0").status_code == 404
    assert ogc_client.get("/ogc/collections/nope/tiles").status_code == 404


def test_a_part_of_a_mixed_layer_has_tiles_of_its_type_only(ogc_client):
    z, x, y = 8, 131, 84  # most of the province
    types = {}
    for part in ("knooppunten", "verbindingen", "deelgebieden"):
        cid = f"hoofdstructuur-{part}"
        resp = ogc_client.get(f"/ogc/collections/{cid}/tiles/WebMercatorQuad/{z}/{y}/{x}")
        assert resp.status_code == 200
        feats = mapbox_vector_tile.decode(resp.content)[cid]["features"]
        types[part] = {f["geometry"]["type"].replace("Multi", "") for f in feats}
        again = ogc_client.get(
            f"/ogc/collections/{cid}/tiles/WebMercatorQuad/{z}/{y}/{x}",
            headers={"If-None-Match": resp.headers["etag"]},
        )
        assert again.status_code == 304
    assert types == {
        "knooppunten": {"Point"},
        "verbindingen": {"LineString"},
        "deelgebieden": {"Polygon"},
    }


def test_maplibre_styles_per_layer_and_for_all_kaartlagen(ogc_client):
    listed = {s["id"] for s in ogc_client.get("/ogc/styles").json()["styles"]}
    assert {"kaartlagen", "reserveringen", "hoofdstructuur"} <= listed
    res = ogc_client.get("/ogc/styles/reserveringen")
    assert res.headers["content-type"] == "application/vnd.mapbox.style+json"
    doc = res.json()
    assert doc["version"] == 8 and set(doc["sources"]) == {"reserveringen"}
    tilejson = ogc_client.get(doc["sources"]["reserveringen"]["url"])
    assert tilejson.status_code == 200 and tilejson.json()["tiles"]
    fills = [layer for layer in doc["layers"] if layer["type"] == "fill"]
    assert sorted(layer["filter"][2] for layer in fills) == [
        ["==", ["to-string", ["get", "status"]], "hard"],
        ["==", ["to-string", ["get", "status"]], "zacht"],
    ]
    assert {layer["paint"]["fill-color"] for layer in fills} == {"#1b5e20", "#66bb6a"}
    hs = ogc_client.get("/ogc/styles/hoofdstructuur").json()
    assert set(hs["sources"]) == {
        "hoofdstructuur-knooppunten",
        "hoofdstructuur-verbindingen",
        "hoofdstructuur-deelgebieden",
    }
    assert {layer["type"] for layer in hs["layers"][1:]} == {"circle", "line", "fill"}
    everything = ogc_client.get("/ogc/styles/kaartlagen").json()
    assert {"gemeenten", "bedrijventerreinen", "reserveringen"} <= set(everything["sources"])
    assert everything["layers"][0]["type"] == "background"
    assert ogc_client.get("/ogc/styles/nope").status_code == 404


def test_unpublished_layers_have_no_tiles_tilesets_or_styles(ogc_client, ogc_db):
    from layers.store import set_layer_meta

    with ogc_db.engine.begin() as conn:
        set_layer_meta(conn, "water", published=False)
    try:
        for path in (
            "/ogc/collections/water/tiles",
            "/ogc/collections/water/tiles/WebMercatorQuad",
            "/ogc/collections/water/tiles/WebMercatorQuad/10/337/525",
            "/ogc/styles/water",
        ):
            assert ogc_client.get(path).status_code == 404, path
        assert "water" not in ogc_client.get("/ogc/styles/kaartlagen").json()["sources"]
    finally:
        with ogc_db.engine.begin() as conn:
            set_layer_meta(conn, "water", published=True)
