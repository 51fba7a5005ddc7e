"""Geometry helpers and the approximate infrastructure used by the demo data generator.

Everything here is in EPSG:28992 (RD New, metres). The waterways, railways and motorways
of one province (:data:`HAND_DRAWN_PROVINCE`) are coarse hand-drawn polylines (a few hundred
metres to a kilometre off the real ones):
enough to make generated bedrijventerreinen sit plausibly along water and rail, not a
map of the real network. None of it is stored as a layer except the water bodies, which
:mod:`layers.demo_land` turns into the ``water`` layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import LineString, MultiPolygon, Point, Polygon


@dataclass(frozen=True)
class Waterway:
    """A river or canal: its centre line, half its width and whether freight ships use it."""

    naam: str
    coords: tuple[tuple[float, float], ...]
    half_width_m: float
    vaarweg: bool

    @property
    def line(self) -> LineString:
        """The centre line."""
        return LineString(self.coords)


@dataclass(frozen=True)
class Lake:
    """A lake, drawn as an ellipse: centre, semi-axes and rotation (degrees)."""

    naam: str
    x: float
    y: float
    a_m: float
    b_m: float
    angle_deg: float

    @property
    def polygon(self) -> Polygon:
        """The lake as a 64-vertex ellipse."""
        t = np.linspace(0.0, 2.0 * np.pi, 64, endpoint=False)
        rot = np.radians(self.angle_deg)
        ex, ey = self.a_m * np.cos(t), self.b_m * np.sin(t)
        xs = self.x + ex * np.cos(rot) - ey * np.sin(rot)
        ys = self.y + ex * np.sin(rot) + ey * np.cos(rot)
        return Polygon(np.round(np.column_stack([xs, ys]), 1))


# fmt: off
#: Rivers and canals, roughly where they run (RD metres). ``vaarweg``: used by freight
#: shipping, so a terrein along it counts as ontsloten over water.
WATERWAYS: tuple[Waterway, ...] = (
    Waterway("Nederrijn en Lek", (
        (173000, 441200), (167500, 440300), (163500, 441800), (160000, 444200), (156000, 443800),
        (152000, 442300), (147000, 442300), (142000, 443200), (138000, 444500), (135000, 445900),
        (132500, 444800), (130500, 443400), (127000, 442000), (124500, 441400), (121000, 440200),
        (118000, 439000), (112000, 436800)), 95.0, True),
    Waterway("Amsterdam-Rijnkanaal", (
        (150300, 442450), (146500, 444200), (142000, 446000), (138600, 447000), (137300, 448500),
        (136600, 451200), (134600, 453800), (133900, 456800), (133000, 459500), (131900, 461800),
        (129900, 465000), (129100, 469800), (128400, 474000), (127300, 481000)), 55.0, True),
    Waterway("Eem", (
        (155300, 463600), (154000, 465500), (152200, 468000), (150600, 470500), (149900, 473500),
        (149400, 476500), (149000, 479500)), 22.0, True),
    Waterway("Merwedekanaal", (
        (135600, 454300), (135000, 451300), (134600, 448200), (134400, 446400), (134500, 445300),
        (133100, 441500), (131000, 437200), (128700, 433200), (127400, 429000)), 20.0, True),
    Waterway("Linge", (
        (142000, 434200), (139500, 434000), (137000, 434300), (135000, 433700), (132000, 432400),
        (128500, 430500)), 18.0, True),
    Waterway("Vecht", (
        (136400, 457400), (135400, 459300), (133800, 460700), (132200, 461300), (130400, 463200),
        (128900, 465300), (129500, 467900), (130400, 469800), (129800, 473500), (129100, 477500),
        (128700, 481000)), 15.0, False),
    Waterway("Hollandse IJssel", (
        (133400, 447400), (131400, 448300), (128500, 449300), (125600, 450400), (122500, 449800),
        (119800, 448700), (113000, 447200)), 12.0, False),
    Waterway("Kromme Rijn", (
        (151500, 443500), (149500, 445500), (147000, 448500), (145000, 450400), (142400, 452700),
        (140000, 454300), (138200, 455300)), 8.0, False),
    Waterway("Leidsche Rijn", (
        (133900, 455600), (131000, 455100), (128000, 454700), (125000, 455000), (121800, 455300),
        (116000, 455000)), 10.0, False),
)

LAKES: tuple[Lake, ...] = (
    Lake("Vinkeveense Plassen", 125600, 468200, 2200, 700, 45),
    Lake("Maarsseveense Plassen", 133600, 462300, 650, 380, 10),
)

#: Railways (approximate), as polylines between stations.
RAILWAYS: tuple[tuple[tuple[float, float], ...], ...] = (
    ((135800, 455700), (133500, 458500), (131900, 461000), (129200, 465000), (127800, 470000),
     (126800, 475500), (125800, 481000)),
    ((135800, 455700), (131000, 455500), (125800, 455200), (120600, 455900), (112000, 453000)),
    ((120600, 455900), (114500, 459000), (111000, 461000)),
    ((135800, 455700), (139500, 457800), (142000, 460500), (144800, 461500), (150000, 462000),
     (154500, 462700)),
    ((135800, 455700), (141000, 454600), (146800, 452400), (151800, 452600), (158000, 451000),
     (163000, 449600), (166500, 449000), (173000, 448000)),
    ((135800, 455700), (137500, 452000), (139800, 449200), (141000, 445500), (140500, 441000),
     (140000, 436000), (140500, 428000)),
    ((154500, 462700), (151500, 466500), (148500, 469000), (144000, 469500), (139000, 469000)),
    ((154500, 462700), (160000, 463500), (168000, 464800), (173000, 465500)),
    ((154500, 462700), (158000, 467000), (162000, 472000), (166000, 477000)),
    ((167500, 441800), (166800, 448900), (170000, 451500), (173000, 452500)),
    ((143500, 434600), (134700, 433700), (128000, 432500), (118000, 430000)),
)

#: Motorways (approximate).
MOTORWAYS: tuple[tuple[tuple[float, float], ...], ...] = (
    ((126000, 481000), (129000, 470000), (131500, 462000), (132800, 456000), (134000, 451500),
     (137000, 444000), (140500, 430000)),
    ((110000, 453000), (122000, 456600), (128000, 455600), (133000, 454200), (140000, 452600),
     (150000, 451400), (160000, 449000), (173000, 446500)),
    ((147000, 481000), (146300, 470000), (141000, 460000), (138600, 452200), (135500, 445500),
     (131000, 437000), (125000, 428000)),
    ((138600, 457200), (144000, 459800), (150000, 460600), (155500, 461200), (162000, 464000),
     (173000, 470000)),
    ((139000, 481000), (147000, 472000), (153000, 467200), (160000, 465200), (173000, 468500)),
)

#: The province the waterways, lakes, railways, motorways and ridge above are drawn for; other
#: work areas get a synthetic network (:mod:`layers.demo.area`).
HAND_DRAWN_PROVINCE = "PV26"
#: Its peat lies west of x and north of y of this corner (RD metres).
VEEN_CORNER = (133_000.0, 462_000.0)

#: The Heuvelrug, as a ridge line: woods and heath lie within a few km of it.
HEUVELRUG: tuple[tuple[float, float], ...] = (
    (168000, 441500), (162000, 445500), (157000, 449000), (151500, 452500), (147000, 457000),
    (145500, 461500), (147000, 466500), (146500, 471000),
)
# fmt: on


def waterway_polygons(
    area: shapely.Geometry,
    waterways: Sequence[Waterway] | None = None,
    lakes: Sequence[Lake] | None = None,
) -> list[tuple[str, bool, shapely.Geometry]]:
    """Every waterway and lake (default: the hand-drawn ones) as a polygon clipped to ``area``:
    (naam, vaarweg, geometry)."""
    out = []
    for w in WATERWAYS if waterways is None else waterways:
        poly = polygonal(shapely.intersection(w.line.buffer(w.half_width_m, quad_segs=4), area))
        if poly is not None:
            out.append((w.naam, w.vaarweg, poly))
    for lake in LAKES if lakes is None else lakes:
        poly = polygonal(shapely.intersection(lake.polygon, area))
        if poly is not None:
            out.append((lake.naam, False, poly))
    return out


def lines(coords: Iterable[Sequence[tuple[float, float]]]) -> shapely.MultiLineString:
    """Polylines as one MultiLineString."""
    return shapely.MultiLineString([LineString(c) for c in coords])


def polygonal(
    geom: shapely.Geometry | None, min_area: float = 1.0
) -> Polygon | MultiPolygon | None:
    """The polygon parts of ``geom`` (dropping slivers below ``min_area`` m²), or None."""
    if geom is None or geom.is_empty:
        return None
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    flat: list[Polygon] = []
    for p in parts:
        flat.extend(shapely.get_parts(p) if p.geom_type == "MultiPolygon" else [p])
    flat = [p for p in flat if p.area >= min_area]
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else MultiPolygon(flat)


def as_multipolygons(geoms: Sequence[shapely.Geometry]) -> np.ndarray:
    """Polygons wrapped as MultiPolygons, so that a layer has one geometry type."""
    out = np.empty(len(geoms), dtype=object)
    for i, g in enumerate(geoms):
        out[i] = MultiPolygon([g]) if g.geom_type == "Polygon" else g
    return out


def blob(
    x: float, y: float, area_m2: float, rng: np.random.Generator, roughness: float = 0.12
) -> Polygon:
    """A smooth, irregular, star-shaped polygon of exactly ``area_m2`` around (x, y)."""
    t = np.linspace(0.0, 2.0 * np.pi, 72, endpoint=False)
    r = np.ones_like(t)
    for k in range(2, 6):
        r += roughness / k * rng.uniform(0.4, 1.0) * np.cos(k * t + rng.uniform(0.0, 2.0 * np.pi))
    unit = Polygon(np.column_stack([np.cos(t) * r, np.sin(t) * r]))
    scale = np.sqrt(area_m2 / unit.area)
    return Polygon(
        np.round(np.column_stack([x + np.cos(t) * r * scale, y + np.sin(t) * r * scale]), 1)
    )


def parcel(
    x: float,
    y: float,
    area_m2: float,
    rng: np.random.Generator,
    angle: float | None = None,
    max_aspect: float = 2.4,
) -> Polygon:
    """An irregular, convex, roughly rectangular plot of ``area_m2`` centred on (x, y).

    ``angle`` (radians) orients the long side, e.g. along a canal; random when None.
    """
    aspect = rng.uniform(1.0, max_aspect)
    angle = rng.uniform(0.0, np.pi) if angle is None else angle
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=float) * [aspect, 1.0]
    corners += rng.uniform(-0.22, 0.22, size=corners.shape)
    # a cut corner on some plots, as real terreinen follow roads and ditches
    if rng.random() < 0.5:
        i = int(rng.integers(4))
        a, b, c = corners[i - 1], corners[i], corners[(i + 1) % 4]
        f = rng.uniform(0.2, 0.45)
        corners = np.insert(
            np.delete(corners, i, axis=0), i, [b + (a - b) * f, b + (c - b) * f], axis=0
        )
    unit = shapely.convex_hull(shapely.MultiPoint(corners))
    pts = np.asarray(unit.exterior.coords)[:-1]
    pts *= np.sqrt(area_m2 / unit.area)
    cos, sin = np.cos(angle), np.sin(angle)
    rotated = np.column_stack(
        [pts[:, 0] * cos - pts[:, 1] * sin, pts[:, 0] * sin + pts[:, 1] * cos]
    )
    return Polygon(np.round(rotated + [x, y], 1))


def disc_part(
    geom: shapely.Geometry, x: float, y: float, area_m2: float
) -> Polygon | MultiPolygon | None:
    """The part of ``geom`` around (x, y) of about ``area_m2`` (a disc grown until it fits)."""
    if geom.area <= area_m2:
        return polygonal(geom)
    r = np.sqrt(area_m2 / np.pi)
    part = None
    for _ in range(12):
        part = polygonal(shapely.intersection(geom, Point(x, y).buffer(r, quad_segs=8)))
        if part is not None and part.area >= 0.95 * area_m2:
            break
        r *= 1.25
    return part


def random_points(geom: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniformly random points strictly inside a polygon, as an (n, 2) array."""
    if n <= 0:
        return np.empty((0, 2))
    minx, miny, maxx, maxy = geom.bounds
    shapely.prepare(geom)
    found: list[np.ndarray] = []
    have = 0
    ratio = max(geom.area / max((maxx - minx) * (maxy - miny), 1.0), 0.05)
    while have < n:
        m = int((n - have) / ratio * 1.3) + 8
        xy = np.column_stack([rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)])
        inside = xy[shapely.contains_xy(geom, xy[:, 0], xy[:, 1])]
        found.append(inside)
        have += len(inside)
    return np.concatenate(found)[:n]


def point_along(line: shapely.Geometry, rng: np.random.Generator) -> tuple[float, float, float]:
    """A random point on ``line`` and the line's direction there (radians)."""
    length = line.length
    d = rng.uniform(0.0, length)
    p = shapely.line_interpolate_point(line, d)
    q = shapely.line_interpolate_point(line, min(d + 50.0, length))
    r = shapely.line_interpolate_point(line, max(d - 50.0, 0.0))
    return p.x, p.y, float(np.arctan2(q.y - r.y, q.x - r.x))


class Obstacles:
    """Geometries new ones must keep clear of; fast checks through bounding boxes."""

    def __init__(self, geoms: Iterable[shapely.Geometry] = ()):
        self._geoms: list[shapely.Geometry] = []
        self._bounds = np.empty((64, 4))
        for g in geoms:
            self.add(g)

    def add(self, geom: shapely.Geometry) -> None:
        """Add an obstacle."""
        shapely.prepare(geom)
        if len(self._geoms) == len(self._bounds):
            self._bounds = np.vstack([self._bounds, np.empty_like(self._bounds)])
        self._bounds[len(self._geoms)] = geom.bounds
        self._geoms.append(geom)

    def clear_of(self, geom: shapely.Geometry, gap: float = 0.0) -> bool:
        """Whether ``geom`` stays ``gap`` metres away from every obstacle."""
        if not self._geoms:
            return True
        minx, miny, maxx, maxy = geom.bounds
        b = self._bounds[: len(self._geoms)]
        near = (
            (b[:, 0] <= maxx + gap)
            & (b[:, 2] >= minx - gap)
            & (b[:, 1] <= maxy + gap)
            & (b[:, 3] >= miny - gap)
        )
        for i in np.flatnonzero(near):
            other = self._geoms[i]
            if gap > 0 and shapely.dwithin(other, geom, gap):
                return False
            if gap <= 0 and shapely.intersects(other, geom):
                return False
        return True
