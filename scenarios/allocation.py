"""Allocation: each unit's uncovered demand goes to its most suitable free cells.

Per unit (gemeente, or region), the uncovered HMC demand is placed first, on cells open
to HMC space; then the other uncovered demand, on the remaining free cells. Cells are
taken in order of suitability (highest first); equal suitability (to 1e-6) is broken by
position: the northernmost, then westernmost cell first. So the same inputs always give
the same cells.

The number of cells is ``ceil(gross ha ÷ cell ha)``; the ha placed is the demand placed
(at most the uncovered demand), so ``allocated + unmet = uncovered`` holds exactly, and
the allocated cells may cover up to one cell more than ``allocated_ha`` per unit and kind.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from scenarios.suitability import Surface
from spatial.raster import vectorise

#: Classes of the ``allocation`` raster.
NOT_ALLOCATED, NEW_OTHER, NEW_HMC, NODATA = 0, 1, 2, 255
QUANTUM = 1_000_000
"""Suitability is compared in steps of 1/QUANTUM."""


@dataclass
class Allocation:
    """The outcome: a class raster and per-unit cell counts."""

    classes: np.ndarray
    """uint8: NOT_ALLOCATED, NEW_OTHER, NEW_HMC, or NODATA outside the units."""
    hmc_cells: np.ndarray
    other_cells: np.ndarray


def cells_needed(gross_ha: np.ndarray, cell_ha: float) -> np.ndarray:
    """Whole cells to hold ``gross_ha`` (ceil, with a tolerance for float noise).

    Examples
    --------
    >>> cells_needed(np.array([0.0, 0.0625, 0.07, 1.0]), 0.0625).tolist()
    [0, 1, 2, 16]
    """
    raw = np.maximum(np.asarray(gross_ha, dtype=float), 0.0) / cell_ha
    return np.ceil(raw - 1e-9).astype(np.int64)


def allocate(
    surface: Surface, unit: np.ndarray, hmc_need: np.ndarray, other_need: np.ndarray
) -> Allocation:
    """Place the needed cells of each unit on its most suitable free cells.

    Parameters
    ----------
    surface
        Suitability and constraint classes.
    unit
        int raster: the unit of each cell (-1: none; cells outside every unit stay unused).
    hmc_need, other_need
        Cells needed per unit position: HMC space and other space.

    Returns
    -------
    Allocation
        The class raster and the cells actually taken per unit (fewer where space ran out).
    """
    n_units = len(hmc_need)
    flat_unit = unit.ravel()
    suit = surface.suitability.ravel()
    candidates = np.flatnonzero(surface.free.ravel() & (flat_unit >= 0) & np.isfinite(suit))
    order = _ranked(candidates, flat_unit[candidates], suit[candidates], n_units)
    ranked_units = flat_unit[order]
    bounds = np.searchsorted(ranked_units, np.arange(n_units + 1))
    hmc_ok = surface.hmc_allowed.ravel()
    classes = np.full(surface.grid.size, NOT_ALLOCATED, dtype=np.uint8)
    classes[flat_unit < 0] = NODATA
    hmc_taken = np.zeros(n_units, dtype=np.int64)
    other_taken = np.zeros(n_units, dtype=np.int64)
    for u in range(n_units):
        cells = order[bounds[u] : bounds[u + 1]]
        if not len(cells) or (hmc_need[u] <= 0 and other_need[u] <= 0):
            continue
        taken = np.zeros(len(cells), dtype=bool)
        if hmc_need[u] > 0:
            picks = np.flatnonzero(hmc_ok[cells])[: hmc_need[u]]
            taken[picks] = True
            classes[cells[picks]] = NEW_HMC
            hmc_taken[u] = len(picks)
        if other_need[u] > 0:
            picks = np.flatnonzero(~taken)[: other_need[u]]
            classes[cells[picks]] = NEW_OTHER
            other_taken[u] = len(picks)
    return Allocation(
        classes=classes.reshape(surface.grid.shape), hmc_cells=hmc_taken, other_cells=other_taken
    )


def _ranked(cells: np.ndarray, units: np.ndarray, suit: np.ndarray, n_units: int) -> np.ndarray:
    """``cells`` sorted by unit, then suitability (high first), then position."""
    q = np.clip(np.round(suit.astype(np.float64) * QUANTUM), 0, QUANTUM).astype(np.int64)
    cell_bits = max(int(cells.max()).bit_length(), 1) if len(cells) else 1
    q_bits = QUANTUM.bit_length()
    unit_bits = max(int(n_units).bit_length(), 1)
    if cell_bits + q_bits + unit_bits <= 62:
        key = (
            (units.astype(np.int64) << (q_bits + cell_bits)) | ((QUANTUM - q) << cell_bits) | cells
        )
        key.sort()
        return key & ((1 << cell_bits) - 1)
    return cells[np.lexsort((cells, QUANTUM - q, units))]


def allocation_polygons(
    allocation: Allocation, surface: Surface
) -> list[tuple[int, int, shapely.Geometry, int, float]]:
    """The allocated cells as polygons, one (multi)polygon per gemeente and class.

    Returns
    -------
    list[tuple[int, int, shapely.Geometry, int, float]]
        (gemeente position, class, geometry, cells, mean suitability), by gemeente then class.
    """
    classes = allocation.classes
    taken = (classes == NEW_OTHER) | (classes == NEW_HMC)
    if not taken.any():
        return []
    labels = np.where(taken, surface.gemeente.astype(np.int64) * 4 + classes, 0).astype(np.int32)
    groups: dict[int, list[shapely.Geometry]] = {}
    for label, polygon in vectorise(labels, surface.grid, mask=taken):
        groups.setdefault(label, []).append(polygon)
    idx = np.flatnonzero(taken.ravel())
    cell_labels = labels.ravel()[idx]
    values, inverse = np.unique(cell_labels, return_inverse=True)
    counts = np.bincount(inverse)
    sums = np.bincount(inverse, weights=surface.suitability.ravel()[idx].astype(np.float64))
    out = []
    for k, label in enumerate(values.tolist()):
        parts = groups[label]
        geom = parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
        out.append((label // 4, label % 4, geom, int(counts[k]), float(sums[k] / counts[k])))
    return out


def gross_ha(uncovered_ha: np.ndarray, basis: str, ratio: float) -> np.ndarray:
    """Land (bruto) ha needed for uncovered demand on ``basis`` (netto ÷ ratio)."""
    return np.asarray(uncovered_ha, dtype=float) / (ratio if basis == "netto" else 1.0)


def placed_ha(
    cells: np.ndarray, cell_ha: float, uncovered_ha: np.ndarray, basis: str, ratio: float
) -> np.ndarray:
    """Demand placed on the basis: the cells' land on the basis, at most the uncovered demand."""
    land = np.asarray(cells, dtype=float) * cell_ha * (ratio if basis == "netto" else 1.0)
    return np.minimum(land, np.maximum(np.asarray(uncovered_ha, dtype=float), 0.0))
