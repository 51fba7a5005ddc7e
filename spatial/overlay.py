"""Overlay of features with a set of zones (gemeenten): which part of which feature lies where.

:func:`split_by_zones` is the basis of every per-gemeente figure: a terrein crossing a
gemeente border is split by area, a point goes to the zone that holds it. Only features
that cross a zone boundary are intersected; the rest are measured whole, which keeps
the overlay fast for thousands of features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely


@dataclass
class Pieces:
    """Feature × zone pieces: ``feature[k]`` lies in ``zone[k]`` with ``area[k]`` m² (``share[k]``).

    ``share`` is the piece's part of the feature's whole area (1 for points and for
    features wholly inside one zone). Pieces of zero area (touching only) are left out.
    """

    feature: np.ndarray
    zone: np.ndarray
    area: np.ndarray
    share: np.ndarray
    geometry: np.ndarray | None = None
    """The piece geometries, when asked for."""


def split_by_zones(
    geometries: np.ndarray, zones: np.ndarray, *, keep_geometry: bool = False
) -> Pieces:
    """Split features by zones (polygons) and measure each piece.

    Polygons are split by area; points and lines go whole to the zone(s) they intersect
    (a line crossing a border counts in each zone, with share 1).

    Parameters
    ----------
    geometries
        Features in EPSG:28992.
    zones
        Zone polygons (e.g. gemeenten), assumed not to overlap each other.
    keep_geometry
        Also return the piece geometries.

    Returns
    -------
    Pieces
        One row per (feature, zone) with a positive area (polygons) or an intersection
        (points, lines), ordered by feature then zone.

    Examples
    --------
    >>> zones = np.array([shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)])
    >>> p = split_by_zones(np.array([shapely.box(5, 0, 15, 10)]), zones)
    >>> p.zone.tolist(), (p.area / 1).tolist(), p.share.tolist()
    ([0, 1], [50.0, 50.0], [0.5, 0.5])
    """
    geoms = np.asarray(geometries, dtype=object)
    zones = np.asarray(zones, dtype=object)
    empty = Pieces(
        feature=np.array([], dtype=np.int64),
        zone=np.array([], dtype=np.int64),
        area=np.array([], dtype=float),
        share=np.array([], dtype=float),
        geometry=np.array([], dtype=object) if keep_geometry else None,
    )
    if len(geoms) == 0 or len(zones) == 0:
        return empty
    tree = shapely.STRtree(zones)
    feat, zone = tree.query(geoms, predicate="intersects")
    if len(feat) == 0:
        return empty
    whole_area = shapely.area(geoms)
    polygonal = whole_area > 0
    shapely.prepare(zones)  # caches a spatial index on each zone; the geometries are unchanged
    inside = shapely.contains_properly(zones[zone], geoms[feat])
    area = np.where(polygonal[feat], whole_area[feat], 0.0).astype(float)
    pieces = geoms[feat].copy() if keep_geometry else None
    cut = polygonal[feat] & ~inside
    if cut.any():
        parts = shapely.intersection(geoms[feat[cut]], zones[zone[cut]])
        area[cut] = shapely.area(parts)
        if keep_geometry:
            pieces[cut] = parts
    keep = ~polygonal[feat] | (area > 0)
    order = np.lexsort((zone[keep], feat[keep]))
    share = np.where(
        polygonal[feat], area / np.where(whole_area[feat] > 0, whole_area[feat], 1.0), 1.0
    )
    return Pieces(
        feature=feat[keep][order],
        zone=zone[keep][order],
        area=area[keep][order],
        share=share[keep][order],
        geometry=pieces[keep][order] if keep_geometry else None,
    )


def polygonal(geometries: np.ndarray) -> np.ndarray:
    """Each geometry reduced to its polygon parts, as a MultiPolygon (None when it has none).

    Intersections of polygons can hold lines or points where edges touch; a polygon
    layer keeps only the areas.

    Examples
    --------
    >>> line = shapely.LineString([(1, 1), (2, 2)])
    >>> g = shapely.GeometryCollection([shapely.box(0, 0, 1, 1), line])
    >>> polygonal(np.array([g]))[0].wkt
    'MULTIPOLYGON (((1 0, 1 1, 0 1, 0 0, 1 0)))'
    """
    out = np.empty(len(geometries), dtype=object)
    for i, geom in enumerate(geometries):
        parts = (
            []
            if geom is None
            else [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
        )
        flat = []
        for p in parts:
            flat.extend(shapely.get_parts(p) if p.geom_type == "MultiPolygon" else [p])
        flat = [p for p in flat if not p.is_empty and p.area > 0]
        out[i] = shapely.MultiPolygon(flat) if flat else None
    return out
