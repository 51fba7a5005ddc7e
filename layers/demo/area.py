"""What the demo generator knows of a work area: targets, kernen, regions and infrastructure.

Everything here is data or derived from the real CBS boundaries, never hard-wired to one
province:

* ``layers/data/demo/doelen.csv``: demo targets per province (number of terreinen, bruto and
  uitgeefbaar ha, woonterrein ha). Orders of magnitude for plausibility, NOT IBIS or CBS
  figures: the twelve rows add up to about 3,800 terreinen and 100,000 ha bruto, in the order of
  the real national totals. A work area of several provinces (``NL``) takes their sum.
* ``layers/data/demo/kernen.csv``: known towns and villages (public knowledge: approximate RD
  positions, rounded populations). A gemeente without a row gets kernen derived from its polygon
  (:func:`derived_kernen`).
* ``layers/data/demo/gemeente_profielen.csv``: a region (for the circulaire deelgebieden) and an
  economic weight per gemeente where known. Elsewhere regions are the provinces (for ``NL``) or
  clusters of neighbouring gemeenten, named after their largest kern.
* Infrastructure: the hand-drawn waterways, railways and motorways of :mod:`layers.demo.geo`
  cover one province only (:data:`layers.demo.geo.HAND_DRAWN_PROVINCE`); any other area gets a
  synthetic network from its kernen and seed (:func:`synthetic_infrastructure`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import shapely
from shapely import LineString

from layers import boundaries
from layers.demo.geo import (
    HAND_DRAWN_PROVINCE,
    HEUVELRUG,
    LAKES,
    MOTORWAYS,
    RAILWAYS,
    VEEN_CORNER,
    WATERWAYS,
    Lake,
    Waterway,
)
from layers.errors import LayerError

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"
#: The province the per-province targets and the generator's constants were tuned on; other
#: areas scale the area-bound targets (landgebruik classes, Voronoi cells) by their area.
REFERENCE_AREA = "PV26"
#: Its area (ha): the 26 gemeenten of CBS 2025 (generalised).
REFERENCE_AREA_HA = 155_150.0

#: Derived kernen: inhabitants of a gemeente's main kern from its area (km²): a·area^b.
MAIN_KERN_INWONERS = (9_000.0, 0.45)
#: A village more per this many km² of a gemeente without known kernen.
KM2_PER_VILLAGE = 45.0
VILLAGE_INWONERS = (1_500, 9_000)
#: Synthetic rivers bend as a sum of waves: (wavelength, amplitude) in metres.
MEANDERS = ((60_000.0, 6_000.0), (18_000.0, 2_000.0), (6_000.0, 700.0))
#: Their vertices lie this far apart (m) before clipping.
RIVER_STEP_M = 1_000.0


@dataclass(frozen=True)
class Kern:
    """A town or village: its gemeente, name, RD position and rounded population."""

    statcode: str
    naam: str
    x: float
    y: float
    inwoners: int


@dataclass(frozen=True)
class Targets:
    """The demo totals for a work area (see ``doelen.csv``)."""

    terreinen: int
    bruto_ha: float
    uitgeefbaar_ha: float
    woonterrein_ha: float
    area_scale: float
    """The area's size relative to the reference province (1.0 for it)."""

    @property
    def count_scale(self) -> float:
        """The number of terreinen relative to the reference province's."""
        return self.terreinen / reference_targets()["terreinen"]

    def scaled(self, count: int, by: str = "count") -> int:
        """``count`` (tuned on the reference province) for this area, at least 1."""
        factor = self.count_scale if by == "count" else self.area_scale
        return max(1, int(round(count * factor)))


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@cache
def _target_rows() -> dict[str, dict[str, str]]:
    return {row["statcode"]: row for row in _rows("doelen.csv")}


def reference_targets() -> dict[str, float]:
    """The reference province's row of ``doelen.csv``."""
    row = _target_rows()[REFERENCE_AREA]
    return {k: float(v) for k, v in row.items() if k not in ("statcode", "naam")}


def targets_for(provinces: list[str], area_ha: float) -> Targets:
    """The demo targets of the area made of ``provinces`` (statcodes), ``area_ha`` in size.

    Raises
    ------
    LayerError
        When a province has no row in ``doelen.csv`` (naming it).
    """
    rows = _target_rows()
    missing = sorted(set(provinces) - set(rows))
    if missing:
        raise LayerError(f"no demo targets for {', '.join(missing)} in {DATA_DIR / 'doelen.csv'}")
    picked = [rows[p] for p in sorted(set(provinces))]
    return Targets(
        terreinen=sum(int(r["terreinen"]) for r in picked),
        bruto_ha=sum(float(r["bruto_ha"]) for r in picked),
        uitgeefbaar_ha=sum(float(r["uitgeefbaar_ha"]) for r in picked),
        woonterrein_ha=sum(float(r["woonterrein_ha"]) for r in picked),
        area_scale=round(area_ha / REFERENCE_AREA_HA, 2),
    )


@cache
def known_kernen() -> tuple[Kern, ...]:
    """The kernen of ``kernen.csv``."""
    return tuple(
        Kern(r["statcode"], r["naam"], float(r["x"]), float(r["y"]), int(r["inwoners"]))
        for r in _rows("kernen.csv")
    )


@cache
def gemeente_profiles() -> dict[str, tuple[str, float]]:
    """Region and economic weight per gemeente statcode, where ``gemeente_profielen.csv`` has one."""
    return {
        r["statcode"]: (r["regio"], float(r["economisch_gewicht"]))
        for r in _rows("gemeente_profielen.csv")
    }


def derived_kernen(statcode: str, naam: str, geom: shapely.Geometry, seed: int) -> list[Kern]:
    """Kernen of a gemeente without known ones: a main kern and villages from its area.

    The main kern sits at the polygon's representative point; a larger gemeente gets a village
    per :data:`KM2_PER_VILLAGE` km² at random points inside it, named after their direction
    from the main kern. Deterministic per seed and statcode.
    """
    km2 = geom.area / 1e6
    main = geom.representative_point()
    a, b = MAIN_KERN_INWONERS
    out = [Kern(statcode, naam, round(main.x, 1), round(main.y, 1), int(round(a * km2**b, -2)))]
    n_villages = int(km2 // KM2_PER_VILLAGE)
    if n_villages == 0:
        return out
    rng = np.random.default_rng([seed, int(statcode[2:]) if statcode[2:].isdigit() else 0])
    minx, miny, maxx, maxy = geom.bounds
    shapely.prepare(geom)
    seen: set[str] = set()
    for _ in range(n_villages * 20):
        if len(out) > n_villages:
            break
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        far = all(np.hypot(x - k.x, y - k.y) > 2_500.0 for k in out)
        if not (far and shapely.contains_xy(geom, x, y)):
            continue
        name = f"{naam} {_direction(x - main.x, y - main.y)}"
        k = 2
        while name in seen:
            name = f"{naam} {_direction(x - main.x, y - main.y)} {k}"
            k += 1
        seen.add(name)
        inwoners = int(round(rng.uniform(*VILLAGE_INWONERS), -2))
        out.append(Kern(statcode, name, round(x, 1), round(y, 1), inwoners))
    return out


def _direction(dx: float, dy: float) -> str:
    """``Noord``, ``Oost``, ``Zuid`` or ``West`` for a vector (RD: y is north)."""
    if abs(dy) >= abs(dx):
        return "Noord" if dy > 0 else "Zuid"
    return "Oost" if dx > 0 else "West"


# -- infrastructure -------------------------------------------------------------------


@dataclass
class Infrastructure:
    """Waterways, lakes, railways, motorways and forest ridges of a work area."""

    waterways: tuple[Waterway, ...]
    lakes: tuple[Lake, ...]
    railways: tuple[tuple[tuple[float, float], ...], ...]
    motorways: tuple[tuple[tuple[float, float], ...], ...]
    ridges: tuple[tuple[tuple[float, float], ...], ...]
    veen_corner: tuple[float, float] | None
    """Peat lies west of x and north of y of this corner (more water in the landgebruik)."""
    hand_drawn: bool


def infrastructure(statcodes: list[str], kernen: list[Kern], area: shapely.Geometry, seed: int):
    """The hand-drawn network when every gemeente lies in its area, else a synthetic one."""
    if set(boundaries.province_of(np.asarray(statcodes, dtype=object))) == {HAND_DRAWN_PROVINCE}:
        return Infrastructure(
            WATERWAYS, LAKES, RAILWAYS, MOTORWAYS, (HEUVELRUG,), VEEN_CORNER, hand_drawn=True
        )
    return synthetic_infrastructure(kernen, area, seed)


def synthetic_infrastructure(
    kernen: list[Kern], area: shapely.Geometry, seed: int
) -> Infrastructure:
    """A plausible network for any area, from its kernen and the seed.

    * rivers: meandering lines across the area, about one per 1,200 km² (at least two), the
      wider ones navigable; a canal from several large kernen to the nearest river;
    * railways: a minimum spanning tree of the kernen of at least 12,000 inhabitants, plus a
      few short extra links; motorways: the same over the kernen of at least 40,000;
    * lakes and forest ridges: a few, at random points inside the area.
    """
    rng = np.random.default_rng([seed, 15_0415])
    km2 = area.area / 1e6
    minx, miny, maxx, maxy = area.bounds
    span = float(np.hypot(maxx - minx, maxy - miny))
    shapely.prepare(area)
    waterways: list[Waterway] = []
    for i in range(max(2, int(round(km2 / 1_200.0)))):
        x0, y0 = _inside(area, rng)
        theta = rng.uniform(0.0, np.pi)
        t = np.linspace(-span, span, int(2 * span / RIVER_STEP_M) + 2)
        wiggle = np.zeros_like(t)
        for wavelength, amplitude in MEANDERS:
            phase = rng.uniform(0.0, 2.0 * np.pi)
            wiggle += amplitude * rng.uniform(0.5, 1.0) * np.sin(2 * np.pi * t / wavelength + phase)
        xs = x0 + t * np.cos(theta) - wiggle * np.sin(theta)
        ys = y0 + t * np.sin(theta) + wiggle * np.cos(theta)
        line = shapely.intersection(LineString(np.column_stack([xs, ys])), area.buffer(2_000.0))
        navigable = i % 3 != 2
        for part in _lines(line, 5_000.0):
            waterways.append(
                Waterway(
                    f"Rivier {_letters(len(waterways))}",
                    part,
                    float(rng.uniform(45.0, 110.0) if navigable else rng.uniform(10.0, 20.0)),
                    navigable,
                )
            )
    rivers = shapely.union_all([LineString(w.coords) for w in waterways if w.vaarweg])
    big = sorted(kernen, key=lambda k: (-k.inwoners, k.naam))
    for kern in big[: max(2, len(big) // 8)]:
        if rivers.is_empty:
            break
        start = shapely.Point(kern.x, kern.y)
        end = shapely.ops.nearest_points(start, rivers)[1]
        if 1_500.0 < start.distance(end) < 20_000.0:
            coords = ((kern.x, kern.y), (round(end.x, 1), round(end.y, 1)))
            waterways.append(Waterway(f"{kern.naam}s Kanaal", coords, 22.0, True))
    lakes = []
    for i in range(max(1, int(round(km2 / 900.0)))):
        x, y = _inside(area, rng)
        a = float(rng.uniform(400.0, 1_800.0))
        lakes.append(
            Lake(
                f"Plas {_letters(i)}",
                x,
                y,
                a,
                a * float(rng.uniform(0.3, 0.7)),
                rng.uniform(0, 180),
            )
        )
    ridges = []
    for _ in range(max(1, int(round(km2 / 1_000.0)))):
        x, y = _inside(area, rng)
        theta, half = rng.uniform(0.0, np.pi), rng.uniform(5_000.0, 15_000.0)
        dx, dy = np.cos(theta) * half, np.sin(theta) * half
        ridges.append(((round(x - dx, 1), round(y - dy, 1)), (round(x + dx, 1), round(y + dy, 1))))
    return Infrastructure(
        waterways=tuple(waterways),
        lakes=tuple(lakes),
        railways=_network([k for k in kernen if k.inwoners >= 12_000] or big[:2], rng, 0.25),
        motorways=_network([k for k in kernen if k.inwoners >= 40_000] or big[:2], rng, 0.15),
        ridges=tuple(ridges),
        veen_corner=None,
        hand_drawn=False,
    )


def _inside(area: shapely.Geometry, rng: np.random.Generator) -> tuple[float, float]:
    """A random point inside ``area``."""
    minx, miny, maxx, maxy = area.bounds
    while True:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(area, x, y):
            return round(float(x), 1), round(float(y), 1)


def _lines(geom: shapely.Geometry, min_length: float) -> list[tuple[tuple[float, float], ...]]:
    """The parts of a (multi)line at least ``min_length`` long, as rounded coordinates."""
    out = []
    for part in shapely.get_parts(geom):
        if part.geom_type == "LineString" and part.length >= min_length:
            out.append(tuple((round(x, 1), round(y, 1)) for x, y in part.coords))
    return out


def _letters(i: int) -> str:
    """``A``, ``B``, …, ``Z``, ``AA``, …: names for generated rivers and lakes."""
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(65 + r) + name
    return name


def _network(
    kernen: list[Kern], rng: np.random.Generator, extra_share: float
) -> tuple[tuple[tuple[float, float], ...], ...]:
    """Lines between kernen: their minimum spanning tree plus the shortest other links."""
    if len(kernen) < 2:
        return ()
    xy = np.array([[k.x, k.y] for k in kernen])
    dist = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    edges = spanning_tree(dist)
    taken = set(edges)
    others = sorted(
        ((dist[i, j], i, j) for i in range(len(xy)) for j in range(i + 1, len(xy)))
        if len(xy) <= 400
        else (),
    )
    extra = [(i, j) for _, i, j in others if (i, j) not in taken][: int(len(edges) * extra_share)]
    out = []
    for i, j in [*edges, *extra]:
        a, b = xy[i], xy[j]
        normal = np.array([-(b - a)[1], (b - a)[0]])
        mid = (a + b) / 2 + normal * rng.uniform(-0.08, 0.08)
        out.append(tuple((round(float(x), 1), round(float(y), 1)) for x, y in (a, mid, b)))
    return tuple(out)


def spanning_tree(dist: np.ndarray) -> list[tuple[int, int]]:
    """Prim's minimum spanning tree of a distance matrix; edges as (i, j) with i < j."""
    n = len(dist)
    inside = np.zeros(n, dtype=bool)
    inside[0] = True
    best = dist[0].copy()
    parent = np.zeros(n, dtype=int)
    edges = []
    for _ in range(n - 1):
        masked = np.where(inside, np.inf, best)
        j = int(np.argmin(masked))
        i = int(parent[j])
        edges.append((min(i, j), max(i, j)))
        inside[j] = True
        closer = dist[j] < best
        best = np.where(closer, dist[j], best)
        parent = np.where(closer, j, parent)
    return edges


# -- regions --------------------------------------------------------------------------


def regions_for(
    statcodes: list[str],
    geometries: np.ndarray,
    kernen: list[Kern],
    province_names: dict[str, str] | None,
) -> dict[str, str]:
    """A region per gemeente for the circulaire deelgebieden.

    Known regions (``gemeente_profielen.csv``) where every gemeente has one; for several
    provinces (``province_names``: gemeente → province name) the provinces; else clusters of
    about eight neighbouring gemeenten, named after their largest kern.
    """
    known = gemeente_profiles()
    if all(known.get(c, ("", 1.0))[0] for c in statcodes):
        return {c: known[c][0] for c in statcodes}
    if province_names is not None and len(set(province_names.values())) > 1:
        return {c: province_names[c] for c in statcodes}
    pts = shapely.get_coordinates(shapely.point_on_surface(np.asarray(geometries, dtype=object)))
    k = max(1, int(round(len(statcodes) / 8)))
    order = np.argsort(-shapely.area(np.asarray(geometries, dtype=object)), kind="stable")
    centres = pts[order[:k]].copy()
    for _ in range(20):
        label = np.argmin(np.hypot(*(pts[:, None, :] - centres[None]).transpose(2, 0, 1)), axis=1)
        for c in range(k):
            if (label == c).any():
                centres[c] = pts[label == c].mean(axis=0)
    names = {}
    for c in range(k):
        members = {statcodes[i] for i in np.flatnonzero(label == c)}
        mine = sorted((kk for kk in kernen if kk.statcode in members), key=lambda x: -x.inwoners)
        names[c] = f"Regio {mine[0].naam}" if mine else f"Regio {c + 1}"
    return {code: names[int(label[i])] for i, code in enumerate(statcodes)}
