"""The demo data for other work areas than the default: a province (Gelderland) and the whole
country's targets; kernen derived from the boundaries. Generated without a database."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from layers import boundaries
from layers.demo import DemoOptions, generate_demo_data
from layers.demo.area import derived_kernen, targets_for
from layers.importer import ImportPolicy
from tests.layers.test_demo import data_digest


def _policy(code: str) -> ImportPolicy:
    minx, miny, maxx, maxy = boundaries.work_area(code).bbox
    return ImportPolicy(work_area=(minx - 1e4, miny - 1e4, maxx + 1e4, maxy + 1e4))


@pytest.fixture(scope="module")
def gelderland():
    return generate_demo_data(DemoOptions(seed=2025, province="Gelderland"), _policy("PV25"))


def _layer(data, name):
    return next(lyr for lyr in data.layers if lyr.name == name)


def test_the_national_targets_are_the_sum_of_the_provinces():
    codes = list(boundaries.provincies()["statcode"])
    t = targets_for(codes, 3_507_568.0)
    assert t.terreinen == 3_800
    assert t.bruto_ha == pytest.approx(100_000, rel=0.05)
    assert t.count_scale == pytest.approx(3_800 / 300)
    assert targets_for(["PV26"], 155_150.0).area_scale == 1.0


def test_gelderland_gets_plausible_layers_in_its_51_gemeenten(gelderland):
    gem = _layer(gelderland, "gemeenten")
    assert sorted(gem.frame["statcode"]) == sorted(boundaries.gemeenten_of("PV25")["statcode"])
    terreinen = _layer(gelderland, "bedrijventerreinen").frame
    assert 480 <= len(terreinen) <= 520
    assert terreinen["bruto_ha"].sum() == pytest.approx(13_000, rel=0.10)
    hmc = terreinen["max_milieucategorie"].astype(int) >= 4
    access = terreinen["ontsluiting_water"] | terreinen["ontsluiting_spoor"]
    assert 0.15 <= hmc.mean() <= 0.20
    assert access[hmc].mean() >= 0.6 and access[hmc].mean() > access[~hmc].mean()
    reserveringen = _layer(gelderland, "reserveringen").frame
    assert set(reserveringen["gemeente"]) == set(gem.frame["statcode"])
    assert len(_layer(gelderland, "water").frame) > 0
    assert len(_layer(gelderland, "strategische_locaties").frame) >= 30
    woon = _layer(gelderland, "woongebieden")
    assert shapely.area(woon.geometries).sum() / 1e4 == pytest.approx(38_000, rel=0.10)
    landgebruik = _layer(gelderland, "landgebruik")
    covered = shapely.area(landgebruik.geometries).sum()
    assert covered == pytest.approx(shapely.area(gem.geometries).sum(), rel=0.005)
    # nothing is named after the default province
    for lyr in gelderland.layers[1:]:
        text = " ".join(str(v) for v in lyr.frame.astype(str).to_numpy().ravel())
        assert "Utrecht" not in text, lyr.name
    assert gelderland.area_text == "de provincie Gelderland"


def test_the_same_seed_gives_the_same_gelderland(gelderland):
    again = generate_demo_data(DemoOptions(seed=2025, province="PV25"), _policy("PV25"))
    assert data_digest(again) == data_digest(gelderland)
    other = generate_demo_data(DemoOptions(seed=7, province="PV25"), _policy("PV25"))
    assert data_digest(other) != data_digest(gelderland)


def test_derived_kernen_lie_in_their_gemeente_and_follow_the_seed():
    gem = boundaries.gemeenten_of("PV25").set_index("statcode")
    geom = gem.geometry["GM0200"]  # Apeldoorn, 340 km²: a main kern and villages
    kernen = derived_kernen("GM0200", "Apeldoorn", geom, seed=1)
    assert len(kernen) >= 5
    assert all(geom.contains(shapely.Point(k.x, k.y)) for k in kernen)
    assert len({k.naam for k in kernen}) == len(kernen)
    assert kernen[0].inwoners > max(k.inwoners for k in kernen[1:])
    assert derived_kernen("GM0200", "Apeldoorn", geom, seed=1) == kernen
    moved = derived_kernen("GM0200", "Apeldoorn", geom, seed=2)
    assert not np.allclose([k.x for k in moved[1:3]], [k.x for k in kernen[1:3]])


def test_the_hand_drawn_network_is_used_for_its_province_only():
    from layers.demo.area import infrastructure

    for code, hand_drawn in (("PV26", True), ("PV25", False)):
        gem = boundaries.gemeenten_of(code)
        area = shapely.union_all(gem.geometry.to_numpy())
        infra = infrastructure(list(gem["statcode"]), [], area, seed=1)
        assert infra.hand_drawn is hand_drawn, code
    # the whole country holds Utrecht's gemeenten and more: a synthetic network
    assert not infrastructure(["GM0344", "GM0200"], [], area, seed=1).hand_drawn
