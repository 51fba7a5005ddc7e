"""Coverage of regional circular functions on a hand-built layout: the distances, the covered
gemeenten and the greedy choice of k = 2 sites against an independent shapely/numpy
computation (issue 16, item 3)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine
from rasterio.io import MemoryFile

from scenarios.coverage import coverage
from scenarios.errors import SpecError
from scenarios.inputs import Inputs, LayerData
from scenarios.result import CoverageResult
from scenarios.spec import Coverage
from scenarios.units import Gemeenten
from scenarios.validation import validate_spec

KM = 1000.0
#: Four gemeenten of 10 × 10 km in a row, west to east.
CODES = ["GM0001", "GM0002", "GM0003", "GM0004"]
BOXES = [shapely.box(i * 10 * KM, 0, (i + 1) * 10 * KM, 10 * KM) for i in range(4)]
#: (naam, functie, geometry): a sorteercentrum point in the first gemeente, a sorteercentrum
#: polygon in the second (its nearest point counts) and an ambachtscentrum in the last.
LOCATIONS = [
    ("Sorteer West", "sorteercentrum", shapely.Point(2 * KM, 3 * KM)),
    ("Sorteer Midden", "sorteercentrum", shapely.box(14 * KM, 1 * KM, 16 * KM, 2 * KM)),
    ("Ambacht Oost", "ambachtscentrum", shapely.Point(38 * KM, 9 * KM)),
]
#: Population points (x km, y km, inwoners): each gemeente's weighted centroid differs from its
#: area centroid; the third has none (it falls back to its area centroid).
POPULATION = [
    (1, 1, 3000),
    (9, 9, 1000),
    (12, 5, 500),
    (18, 5, 1500),
    (31, 2, 800),
    (39, 8, 200),
    (35, 5, 0),
]
CELL = 1000.0


def _layout():
    gem = Gemeenten(
        statcodes=np.array(CODES),
        namen=np.array(["West", "Midwest", "Mideast", "Oost"]),
        geometries=np.array(BOXES, dtype=object),
        regions=np.array([None] * 4, dtype=object),
    )
    frame = pd.DataFrame(
        [(n, f, CODES[int(shapely.centroid(g).x // (10 * KM))]) for n, f, g in LOCATIONS],
        columns=["naam", "functie", "gemeente"],
    )
    loc = LayerData(
        "strategische_locaties",
        "strategische_locaties",
        3,
        np.array([g for *_, g in LOCATIONS], dtype=object),
        frame,
    )
    pop = LayerData(
        "bevolking",
        "landgebruik",
        1,
        np.array([shapely.Point(x * KM, y * KM) for x, y, _ in POPULATION], dtype=object),
        pd.DataFrame({"inwoners": [n for *_, n in POPULATION]}),
    )
    inputs = Inputs(
        {"strategische_locaties": loc, "bevolking": pop},
        gemeenten="gemeenten",
        bedrijventerreinen="bedrijventerreinen",
        strategische_locaties="strategische_locaties",
    )
    return inputs, gem


def _surface() -> tuple[bytes, tuple[float, float], float, np.ndarray]:
    """A 10 × 40 suitability surface of 1 km cells; a band of cells has no new space."""
    rng = np.random.default_rng(7)
    suit = rng.uniform(0.1, 1.0, size=(10, 40)).astype(np.float32)
    suit[:, 9:11] = np.nan  # no new space either side of the first border
    nodata = -9999.0
    data = np.where(np.isnan(suit), nodata, suit).astype(np.float32)
    with MemoryFile() as mem:
        with mem.open(
            driver="GTiff",
            width=40,
            height=10,
            count=1,
            dtype="float32",
            crs="EPSG:28992",
            transform=Affine(CELL, 0, 0, 0, -CELL, 10 * KM),
            nodata=nodata,
        ) as dst:
            dst.write(data, 1)
        tiff = mem.read()
    return tiff, (0.0, 10 * KM), CELL, suit


def _spec(**kwargs) -> Coverage:
    return Coverage.model_validate(
        {
            "types": {
                "sorteercentrum": {"reach_km": 15},
                "ambachtscentrum": {"reach_km": 12},
                "bouwhub": {"reach_km": 6},
            },
            "population": {"layer": "bevolking", "field": "inwoners"},
            "suggest": {"k": 2, "block_m": 1000},
            **kwargs,
        }
    )


def _independent_centroids() -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for box in BOXES:
        inside = [
            (x * KM, y * KM, n)
            for x, y, n in POPULATION
            if box.contains(shapely.Point(x * KM, y * KM))
        ]
        total = sum(n for *_, n in inside)
        if total > 0:
            xs.append(sum(x * n for x, _, n in inside) / total)
            ys.append(sum(y * n for _, y, n in inside) / total)
        else:
            xs.append(box.centroid.x)
            ys.append(box.centroid.y)
    return np.array(xs), np.array(ys)


def _independent_greedy(targets, weights, suit, reach_m, k):
    """Brute force over every cell centre: most newly covered, then weight, suitability, order."""
    rows, cols = suit.shape
    cands = [
        ((c + 0.5) * CELL, 10 * KM - (r + 0.5) * CELL, float(suit[r, c]))
        for r, c in itertools.product(range(rows), range(cols))
        if np.isfinite(suit[r, c])
    ]
    open_ = set(range(len(targets)))
    chosen = []
    for _ in range(k):
        best = None
        for i, (x, y, s) in enumerate(cands):
            new = [t for t in open_ if np.hypot(targets[t][0] - x, targets[t][1] - y) <= reach_m]
            if not new:
                continue
            key = (len(new), sum(weights[t] for t in new), s, -i)
            if best is None or key > best[0]:
                best = (key, x, y, sorted(new))
        if best is None:
            break
        chosen.append((best[1], best[2], best[3]))
        open_ -= set(best[3])
    return chosen


def test_distances_and_covered_gemeenten_equal_shapely():
    inputs, gem = _layout()
    tiff, origin, cell, suit = _surface()
    out = CoverageResult.model_validate(coverage(_spec(), inputs, gem, (tiff, origin, cell)))
    cx, cy = _independent_centroids()
    assert out.centroid == "bevolking"
    assert out.centroid_per_gemeente == {
        "GM0001": "bevolking",
        "GM0002": "bevolking",
        "GM0003": "oppervlakte",
        "GM0004": "bevolking",
    }
    by_type = {t.type: t for t in out.types}
    for name, reach in (("sorteercentrum", 15), ("ambachtscentrum", 12)):
        sites = [g for _, f, g in LOCATIONS if f == name]
        t = by_type[name]
        assert t.locations == len(sites) and t.reach_km == reach
        for g, row in enumerate(t.per_gemeente):
            centre = shapely.Point(cx[g], cy[g])
            dists = [shapely.distance(centre, s) for s in sites]
            assert row.statcode == CODES[g]
            assert row.distance_km == pytest.approx(min(dists) / KM, abs=1e-4)
            assert row.nearest == [n for n, f, _ in LOCATIONS if f == name][int(np.argmin(dists))]
            assert row.covered == (min(dists) <= reach * KM)
        assert t.uncovered == [r.statcode for r in t.per_gemeente if not r.covered]
    # by hand: the sorteercentra cover the west three, the ambachtscentrum only the east one
    assert by_type["sorteercentrum"].uncovered == ["GM0004"]
    assert by_type["ambachtscentrum"].uncovered == ["GM0001", "GM0002", "GM0003"]
    shares = by_type["sorteercentrum"].share_uncovered
    total_pop = sum(n for *_, n in POPULATION)
    assert shares["gemeenten"] == 0.25
    assert shares["area"] == pytest.approx(0.25)
    assert shares["population"] == pytest.approx(1000 / total_pop)


def test_greedy_choice_of_two_sites_equals_brute_force():
    inputs, gem = _layout()
    tiff, origin, cell, suit = _surface()
    out = CoverageResult.model_validate(coverage(_spec(), inputs, gem, (tiff, origin, cell)))
    cx, cy = _independent_centroids()
    weights = [
        sum(n for x, y, n in POPULATION if box.contains(shapely.Point(x * KM, y * KM)))
        for box in BOXES
    ]
    for t in out.types:
        uncovered = [CODES.index(c) for c in t.uncovered]
        expected = _independent_greedy(
            [(cx[g], cy[g]) for g in uncovered],
            [weights[g] for g in uncovered],
            suit,
            t.reach_km * KM,
            2,
        )
        got = [(s.x, s.y, s.covers) for s in t.suggestions]
        assert got == [(x, y, [CODES[uncovered[i]] for i in new]) for x, y, new in expected]
        for s in t.suggestions:  # never a cell without new space, and in the gemeente it names
            r, c = int((10 * KM - s.y) // CELL), int(s.x // CELL)
            assert np.isfinite(suit[r, c]) and s.suitability == pytest.approx(suit[r, c], abs=1e-6)
            assert BOXES[CODES.index(s.gemeente)].contains(shapely.Point(s.x, s.y))
    bouwhub = next(t for t in out.types if t.type == "bouwhub")
    # no bouwhub at all: every gemeente is uncovered. With a 6 km reach one site covers two
    # neighbours at most; the pair with more inwoners (Midwest, Mideast) first, then the most
    # populous gemeente left (West, 13.7 km from Midwest's centroid, so it takes a site alone)
    assert bouwhub.locations == 0 and len(bouwhub.uncovered) == 4
    assert [s.covers for s in bouwhub.suggestions] == [["GM0002", "GM0003"], ["GM0001"]]


def test_area_centroids_without_a_population_layer_and_no_suggestions_without_a_surface():
    inputs, gem = _layout()
    out = CoverageResult.model_validate(coverage(_spec(population=None), inputs, gem, None))
    assert out.centroid == "oppervlakte"
    t = next(t for t in out.types if t.type == "sorteercentrum")
    for g, row in enumerate(t.per_gemeente):
        centre = BOXES[g].centroid
        dists = [shapely.distance(centre, s) for _, f, s in LOCATIONS if f == "sorteercentrum"]
        assert row.distance_km == pytest.approx(min(dists) / KM, abs=1e-4)
    assert all(t.suggestions == [] for t in out.types)


BASE = {
    "name": "x",
    "base_year": 2025,
    "horizon_year": 2035,
    "demand": {"categories": [{"name": "a", "growth_pct": 10}]},
}


@pytest.mark.parametrize(
    ("coverage_spec", "message"),
    [
        ({"types": {"sorteercentrm": {}}}, r"did you mean 'sorteercentrum'"),
        ({"types": {"sorteercentrum": {"reach_km": -5}}}, r"coverage.*reach_km"),
        ({"types": {"sorteercentrum": {}}, "suggest": {"k": 0}}, r"coverage.*suggest.*k"),
        ({"types": {}}, r"coverage.*types"),
        ({"types": {"bouwhub": {"reach": 5}}}, r"reach"),
    ],
)
def test_a_bad_coverage_spec_is_an_error_naming_the_field(coverage_spec, message):
    with pytest.raises(SpecError, match=message):
        validate_spec({**BASE, "coverage": coverage_spec})


def test_a_known_type_takes_its_default_reach():
    spec = validate_spec({**BASE, "coverage": {"types": {"bouwhub": {}}}})
    assert spec.coverage is not None and spec.coverage.types["bouwhub"].reach_km is None
    inputs, gem = _layout()
    out = coverage(spec.coverage, inputs, gem, None)
    assert out["types"][0]["reach_km"] == 25.0  # scenarios/coverage.yaml
