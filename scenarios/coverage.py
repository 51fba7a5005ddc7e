"""Coverage of regional circular functions: which gemeenten have one within reach.

The strategy asks the province to take charge of regional circular functions that gemeenten
share (ambachtscentra, upcycle centers, sorteercentra, depots, GFT-overslag, bouwhubs). For
each type in the spec (``coverage.types``), with the locations of a layer whose function
field (``functie``) has that value:

- each gemeente's **centroid**: weighted by population when the spec names a population
  layer (the mean of its features' centroids inside the gemeente, weighted by the count;
  a gemeente without any falls back to its area centroid, and the result says so), else the
  area centroid of its polygon (``shapely.centroid``: the centre of mass, which may lie
  outside a crescent-shaped gemeente; the distance is what matters, not the point);
- the **straight-line distance** (EPSG:28992, metres; not a travel distance) from it to the
  nearest location of the type (a polygon: its nearest point), and whether that is within the
  type's reach (``reach_km``, from the spec or ``scenarios/coverage.yaml``);
- the gemeenten **not covered** and the share of the work area they make up, by number, by
  area, and by population when given;
- **suggested sites** (``suggest: {k}``): from the run's suitability surface, the most
  suitable cell of each block of ``block_m`` (only cells where new space may go) is a
  candidate; a greedy maximal-coverage choice then takes, k times, the candidate that covers
  the most still-uncovered gemeenten (ties: the most population or area newly covered, then
  the higher suitability, then the first cell in row order), stopping early when no candidate
  covers any more.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from scenarios.errors import ScenarioError
from scenarios.inputs import Inputs
from scenarios.spec import Coverage
from scenarios.units import Gemeenten

DEFAULTS_FILE = Path(__file__).with_name("coverage.yaml")
HA = 10_000.0


@lru_cache(maxsize=1)
def default_reach_km() -> dict[str, float]:
    """The default reach per type (``scenarios/coverage.yaml``)."""
    import yaml

    data = yaml.safe_load(DEFAULTS_FILE.read_text(encoding="utf-8"))
    return {str(k): float(v) for k, v in data["reach_km"].items()}


def centroids(
    gemeenten: Gemeenten, population: tuple[np.ndarray, np.ndarray] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(x, y) per gemeente, its population (NaN without a layer) and how each was found.

    ``population``: (geometries, counts) of a population layer, or None for area centroids.
    """
    area = shapely.centroid(gemeenten.geometries)
    x, y = shapely.get_x(area), shapely.get_y(area)
    pop = np.full(len(gemeenten), np.nan)
    how = ["oppervlakte"] * len(gemeenten)
    if population is None:
        return x, y, pop, how
    geoms, counts = population
    points = shapely.centroid(np.asarray(geoms, dtype=object))
    px, py = shapely.get_x(points), shapely.get_y(points)
    counts = np.nan_to_num(np.asarray(counts, dtype=float), nan=0.0)
    tree = shapely.STRtree(points)
    for g, polygon in enumerate(gemeenten.geometries):
        idx = tree.query(polygon, predicate="contains")
        weight = counts[idx]
        total = float(weight.sum())
        pop[g] = total
        if total > 0:
            x[g] = float(np.sum(px[idx] * weight) / total)
            y[g] = float(np.sum(py[idx] * weight) / total)
            how[g] = "bevolking"
    return x, y, pop, how


def nearest(x: np.ndarray, y: np.ndarray, locations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of the nearest location, distance in m) for each point (-1, inf: none)."""
    if len(locations) == 0:
        return np.full(len(x), -1), np.full(len(x), np.inf)
    tree = shapely.STRtree(locations)
    (src, idx), dist = tree.query_nearest(
        shapely.points(x, y), return_distance=True, all_matches=False
    )
    out_idx = np.full(len(x), -1)
    out_dist = np.full(len(x), np.inf)
    out_idx[src], out_dist[src] = idx, dist
    return out_idx, out_dist


def candidate_sites(
    strips: Iterable[tuple[int, np.ndarray]],
    cols: int,
    origin: tuple[float, float],
    cell_size: float,
    block: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The most suitable cell of each ``block`` × ``block`` block (NaN: no new space).

    ``strips``: (first row, rows) of the suitability, ``block`` rows each (the last may be
    shorter), so memory holds one strip. Returns (x, y of the cell centres, suitability,
    flat cell index), in cell order.
    """
    out_cells, out_suit = [], []
    for r0, strip in strips:
        for c0 in range(0, cols, block):
            part = strip[:, c0 : c0 + block]
            finite = np.isfinite(part)
            if not finite.any():
                continue
            flat = np.where(finite, part, -np.inf).ravel()
            best = int(np.argmax(flat))  # the first of equals: row order
            br, bc = divmod(best, part.shape[1])
            out_cells.append((r0 + br) * cols + c0 + bc)
            out_suit.append(float(flat[best]))
    order = np.argsort(np.array(out_cells, dtype=np.int64), kind="stable")
    cells = np.array(out_cells, dtype=np.int64)[order]
    suit = np.array(out_suit, dtype=float)[order]
    r, c = np.divmod(cells, cols)
    return origin[0] + (c + 0.5) * cell_size, origin[1] - (r + 0.5) * cell_size, suit, cells


def geotiff_strips(tiff: bytes, block: int) -> tuple[Iterator[tuple[int, np.ndarray]], int]:
    """Strips of ``block`` rows of a one-band GeoTIFF (nodata as NaN), and its width."""
    from rasterio.io import MemoryFile
    from rasterio.windows import Window

    with MemoryFile(tiff) as mem, mem.open() as src:
        cols, rows, nodata = src.width, src.height, src.nodata

    def strips() -> Iterator[tuple[int, np.ndarray]]:
        with MemoryFile(tiff) as mem, mem.open() as src:
            for r0 in range(0, rows, block):
                n = min(block, rows - r0)
                strip = src.read(1, window=Window(0, r0, cols, n)).astype(np.float64)
                strip[strip == nodata] = np.nan
                yield r0, strip

    return strips(), cols


def greedy_sites(
    cand_x: np.ndarray,
    cand_y: np.ndarray,
    cand_suit: np.ndarray,
    targets_x: np.ndarray,
    targets_y: np.ndarray,
    weights: np.ndarray,
    reach_m: float,
    k: int,
) -> list[tuple[int, list[int]]]:
    """A greedy maximal-coverage choice of up to ``k`` candidates.

    Each round takes the candidate covering the most still-uncovered targets (within
    ``reach_m``); ties: the larger weight newly covered, then the higher suitability, then
    the lower candidate index. Returns (candidate, targets it newly covers) per site.
    """
    from scipy.spatial import cKDTree

    if len(cand_x) == 0 or len(targets_x) == 0:
        return []
    tree = cKDTree(np.column_stack([targets_x, targets_y]))
    reach = tree.query_ball_point(np.column_stack([cand_x, cand_y]), r=reach_m)
    covers = [np.array(sorted(r), dtype=np.int64) for r in reach]
    open_ = np.ones(len(targets_x), dtype=bool)
    chosen: list[tuple[int, list[int]]] = []
    for _ in range(k):
        best, best_key = -1, None
        for c, cov in enumerate(covers):
            new = cov[open_[cov]]
            if len(new) == 0:
                continue
            key = (len(new), float(weights[new].sum()), float(cand_suit[c]), -c)
            if best_key is None or key > best_key:
                best, best_key = c, key
        if best < 0:
            break
        new = covers[best][open_[covers[best]]]
        open_[new] = False
        chosen.append((best, new.tolist()))
    return chosen


@dataclass
class _Locations:
    """The locations a coverage reads: the layer, its features kept by ``where``, and their
    function, naam and gemeente."""

    layer: Any
    keep: np.ndarray
    functions: np.ndarray
    names: np.ndarray
    owners: np.ndarray

    def of_type(self, name: str) -> np.ndarray:
        """Positions of the kept locations of function ``name``."""
        return np.flatnonzero(self.keep & (self.functions == name))


def _locations(spec: Coverage, inputs: Inputs) -> _Locations:
    layer = inputs.layers.get(spec.layer.layer)
    if layer is None:
        raise ScenarioError(f"coverage: layer {spec.layer.layer!r} was not read")
    return _Locations(
        layer,
        layer.where(spec.layer.where),
        layer.column(spec.function_field).astype(str),
        layer.column("naam", "").astype(str),
        layer.column("gemeente", "").astype(str),
    )


def coverage(
    spec: Coverage,
    inputs: Inputs,
    gemeenten: Gemeenten,
    surface: tuple[bytes, tuple[float, float], float] | None = None,
) -> dict[str, Any]:
    """The coverage part of a run's result (:class:`scenarios.result.CoverageResult`).

    ``surface``: (suitability GeoTIFF, (minx, maxy), cell size) of the run, for suggested
    sites (None: figures only, no suggestions).
    """
    loc = _locations(spec, inputs)
    layer, names, owners = loc.layer, loc.names, loc.owners
    population = None
    if spec.population is not None:
        pop = inputs.layers.get(spec.population.layer)
        if pop is None:
            raise ScenarioError(f"coverage: layer {spec.population.layer!r} was not read")
        mask = pop.where(spec.population.where)
        population = (pop.geometries[mask], pop.numbers(spec.population.field)[mask])
    x, y, pops, how = centroids(gemeenten, population)
    areas = shapely.area(gemeenten.geometries) / HA
    weights = np.nan_to_num(pops, nan=0.0) if population is not None else areas
    types = []
    for name, settings in spec.types.items():
        reach_km = settings.reach_km or default_reach_km()[name]
        mine = loc.of_type(name)
        idx, dist = nearest(x, y, layer.geometries[mine])
        covered = dist <= reach_km * 1000
        rows = [
            {
                "statcode": str(code),
                "naam": str(naam),
                "distance_km": None if not np.isfinite(d) else round(float(d) / 1000, 4),
                "nearest": None if i < 0 else names[mine[i]],
                "nearest_gemeente": None if i < 0 else owners[mine[i]],
                "covered": bool(c),
            }
            for code, naam, d, i, c in zip(
                gemeenten.statcodes, gemeenten.namen, dist, idx, covered, strict=True
            )
        ]
        uncovered = np.flatnonzero(~covered)
        shares = {
            "gemeenten": float(len(uncovered) / max(len(gemeenten), 1)),
            "area": float(areas[uncovered].sum() / max(areas.sum(), 1e-12)),
            "population": (
                float(np.nansum(pops[uncovered]) / np.nansum(pops))
                if population is not None and np.nansum(pops) > 0
                else None
            ),
        }
        entry = {
            "type": name,
            "reach_km": reach_km,
            "locations": len(mine),
            "per_gemeente": rows,
            "uncovered": [str(gemeenten.statcodes[g]) for g in uncovered],
            "share_uncovered": shares,
            "suggestions": [],
        }
        if spec.suggest is not None and surface is not None and len(uncovered):
            entry["suggestions"] = _suggest(
                spec, surface, x, y, weights, uncovered, reach_km, gemeenten
            )
        types.append(entry)
    return {
        "layer": layer.name,
        "layer_version": layer.version,
        "function_field": spec.function_field,
        "centroid": "bevolking" if population is not None else "oppervlakte",
        "centroid_per_gemeente": dict(zip(gemeenten.statcodes.astype(str), how, strict=True)),
        "distance": "straight line between the gemeente's centroid and the location (EPSG:28992)",
        "types": types,
    }


def _suggest(
    spec: Coverage,
    surface: tuple[bytes, tuple[float, float], float],
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    uncovered: np.ndarray,
    reach_km: float,
    gemeenten: Gemeenten,
) -> list[dict[str, Any]]:
    assert spec.suggest is not None
    tiff, origin, cell = surface
    block = max(1, round(spec.suggest.block_m / cell))
    strips, cols = geotiff_strips(tiff, block)
    cx, cy, cs, cells = candidate_sites(strips, cols, origin, cell, block)
    chosen = greedy_sites(
        cx, cy, cs, x[uncovered], y[uncovered], weights[uncovered], reach_km * 1000, spec.suggest.k
    )
    tree = shapely.STRtree(gemeenten.geometries)
    out = []
    for c, new in chosen:
        inside = tree.query(shapely.Point(cx[c], cy[c]), predicate="intersects")
        out.append(
            {
                "x": float(cx[c]),
                "y": float(cy[c]),
                "cell": int(cells[c]),
                "suitability": round(float(cs[c]), 6),
                "gemeente": str(gemeenten.statcodes[inside[0]]) if len(inside) else None,
                "covers": [str(gemeenten.statcodes[uncovered[t]]) for t in new],
            }
        )
    return out


def coverage_layers(spec: Any, part: Any, inputs: Inputs, gemeenten: Gemeenten) -> dict[str, Any]:
    """One derived layer a type (``dekking-<type>``): the reach around each location of the
    type, the gemeenten it leaves uncovered, and the reach around each suggested site."""
    import pandas as pd

    from scenarios.compute import DerivedLayer

    loc = _locations(spec.coverage, inputs)
    layer, names, owners = loc.layer, loc.names, loc.owners
    position = {str(c): g for g, c in enumerate(gemeenten.statcodes)}
    out = {}
    for t in part.types:
        reach_m = t.reach_km * 1000
        rows, geoms = [], []
        for i in loc.of_type(t.type):
            rows.append(("bereik", names[i], owners[i], None))
            geoms.append(shapely.buffer(layer.geometries[i], reach_m, quad_segs=16))
        distances = {r.statcode: r.distance_km for r in t.per_gemeente}
        for code in t.uncovered:
            naam = str(gemeenten.namen[position[code]])
            rows.append(("niet_gedekt", naam, code, distances[code]))
            geoms.append(gemeenten.geometries[position[code]])
        for n, site in enumerate(t.suggestions, start=1):
            rows.append(("voorstel", f"Voorstel {n}", site.gemeente or "", None))
            geoms.append(shapely.buffer(shapely.Point(site.x, site.y), reach_m, quad_segs=16))
        frame = pd.DataFrame(rows, columns=["element", "naam", "gemeente", "afstand_km"])
        frame.insert(0, "functie", t.type)
        frame.insert(0, "scenario", spec.name)
        frame["bereik_km"] = t.reach_km
        out[f"dekking-{t.type}"] = DerivedLayer(
            "dekking",
            frame,
            np.array(geoms, dtype=object),
            f"Bereik {t.type} ({t.reach_km:g} km, {spec.name})",
        )
    return out
