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

from dataclasses import dataclass, replace

import numpy as np
import shapely

from scenarios.suitability import FREE, NO_HMC
from spatial.grid import Grid
from spatial.raster import vectorise

#: Classes of the ``allocation`` raster.
NOT_ALLOCATED, NEW_OTHER, NEW_HMC, NODATA = 0, 1, 2, 255
QUANTUM = 1_000_000
"""Suitability is compared in steps of 1/QUANTUM."""


@dataclass
class Candidates:
    """Cells open to new space: row-major cell index, unit, suitability, HMC allowed, gemeente."""

    cells: np.ndarray
    units: np.ndarray
    suit: np.ndarray
    hmc_ok: np.ndarray
    gemeente: np.ndarray

    def take(self, index: np.ndarray) -> Candidates:
        """The candidates at ``index`` (positions or a boolean mask)."""
        return Candidates(
            self.cells[index],
            self.units[index],
            self.suit[index],
            self.hmc_ok[index],
            self.gemeente[index],
        )

    @classmethod
    def joined(cls, parts: list[Candidates]) -> Candidates:
        """All candidates of ``parts``, ordered by cell."""
        if not parts:
            return cls(
                np.zeros(0, np.int64),
                np.zeros(0, np.int64),
                np.zeros(0, np.float32),
                np.zeros(0, bool),
                np.zeros(0, np.int32),
            )
        joined = cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in FIELDS))
        return joined.take(np.argsort(joined.cells, kind="stable"))


FIELDS = ("cells", "units", "suit", "hmc_ok", "gemeente")


@dataclass
class Allocation:
    """The cells taken, ordered by cell, and per-unit cell counts."""

    cells: np.ndarray
    """Row-major index of each allocated cell (ascending)."""
    classes: np.ndarray
    """uint8 class of each: NEW_OTHER or NEW_HMC."""
    gemeente: np.ndarray
    suit: np.ndarray
    hmc_cells: np.ndarray
    other_cells: np.ndarray

    @classmethod
    def of(
        cls, cand: Candidates, classes: np.ndarray, hmc_cells: np.ndarray, other_cells: np.ndarray
    ) -> Allocation:
        """The candidates with a class (``classes``: one per candidate, 0 for not taken)."""
        chosen = np.flatnonzero(classes)
        return cls(
            cells=cand.cells[chosen],
            classes=classes[chosen],
            gemeente=cand.gemeente[chosen],
            suit=cand.suit[chosen],
            hmc_cells=hmc_cells,
            other_cells=other_cells,
        )

    def take(self, index: np.ndarray) -> Allocation:
        """The cells at ``index`` (positions or a boolean mask), with the same unit counts."""
        return replace(
            self,
            cells=self.cells[index],
            classes=self.classes[index],
            gemeente=self.gemeente[index],
            suit=self.suit[index],
        )


def unit_raster(gemeente: np.ndarray, unit_of: np.ndarray) -> np.ndarray:
    """The unit of each cell: ``unit_of[gemeente]``, -1 outside every gemeente (or unit)."""
    return np.where(gemeente >= 0, unit_of[np.maximum(gemeente, 0)], -1)


def candidates(
    suit: np.ndarray,
    constraints: np.ndarray,
    gemeente: np.ndarray,
    unit: np.ndarray,
    grid_cols: int,
    row0: int = 0,
    col0: int = 0,
) -> Candidates:
    """The free cells with a unit and a suitability of a block at (``row0``, ``col0``)."""
    free = (constraints == FREE) | (constraints == NO_HMC)
    local = np.flatnonzero((free & (unit >= 0) & np.isfinite(suit)).ravel())
    rows, cols = np.divmod(local, max(constraints.shape[1], 1))
    return Candidates(
        cells=(rows + row0).astype(np.int64) * grid_cols + cols + col0,
        units=unit.ravel()[local].astype(np.int64),
        suit=suit.ravel()[local],
        hmc_ok=(constraints.ravel()[local] == FREE),
        gemeente=gemeente.ravel()[local].astype(np.int32),
    )


def shortlist(cand: Candidates, hmc_need: np.ndarray, other_need: np.ndarray) -> Candidates:
    """The candidates :func:`allocate` can take: per unit, its ``hmc_need`` best cells open to
    HMC space and its ``hmc_need + other_need`` best cells.

    The best cells of a unit over several blocks are among the best of each block, so
    :func:`allocate` on the shortlists of the blocks takes the cells it takes on all of them.
    """
    order, ranked_units, bounds = _ranked(cand, len(hmc_need))
    if not len(order):
        return cand
    start = bounds[ranked_units]
    pos = np.arange(len(order)) - start
    hmc = cand.hmc_ok[order]
    seen = np.concatenate([[0], np.cumsum(hmc)])
    hmc_pos = seen[1:] - seen[start] - 1
    keep = (pos < hmc_need[ranked_units] + other_need[ranked_units]) | (
        hmc & (hmc_pos < hmc_need[ranked_units])
    )
    return cand.take(np.sort(order[keep]))


def allocate(cand: Candidates, hmc_need: np.ndarray, other_need: np.ndarray) -> Allocation:
    """Place the needed cells of each unit on its most suitable candidate cells.

    Parameters
    ----------
    cand
        The candidate cells, ordered by cell (all of them, or the shortlists of blocks).
    hmc_need, other_need
        Cells needed per unit position: HMC space and other space.

    Returns
    -------
    Allocation
        The cells taken and the cells actually taken per unit (fewer where space ran out).
    """
    n_units = len(hmc_need)
    order, _, bounds = _ranked(cand, n_units)
    classes = np.zeros(len(cand.cells), dtype=np.uint8)
    hmc_taken = np.zeros(n_units, dtype=np.int64)
    other_taken = np.zeros(n_units, dtype=np.int64)
    for u in range(n_units):
        cells = order[bounds[u] : bounds[u + 1]]
        if not len(cells) or (hmc_need[u] <= 0 and other_need[u] <= 0):
            continue
        taken = np.zeros(len(cells), dtype=bool)
        if hmc_need[u] > 0:
            picks = np.flatnonzero(cand.hmc_ok[cells])[: hmc_need[u]]
            taken[picks] = True
            classes[cells[picks]] = NEW_HMC
            hmc_taken[u] = len(picks)
        if other_need[u] > 0:
            picks = np.flatnonzero(~taken)[: other_need[u]]
            classes[cells[picks]] = NEW_OTHER
            other_taken[u] = len(picks)
    return Allocation.of(cand, classes, hmc_taken, other_taken)


def class_raster(
    allocation: Allocation, inside: np.ndarray, grid_cols: int, row0: int = 0, col0: int = 0
) -> np.ndarray:
    """uint8 classes of a block at (``row0``, ``col0``): NODATA where not ``inside`` a unit
    (``inside`` is ``unit_raster(...) >= 0`` of the block)."""
    rows, cols = inside.shape
    out = np.where(inside, np.uint8(NOT_ALLOCATED), np.uint8(NODATA)).astype(np.uint8)
    lo, hi = np.searchsorted(allocation.cells, [row0 * grid_cols, (row0 + rows) * grid_cols])
    r, c = np.divmod(allocation.cells[lo:hi], grid_cols)
    in_block = (c >= col0) & (c < col0 + cols)
    out[r[in_block] - row0, c[in_block] - col0] = allocation.classes[lo:hi][in_block]
    return out


def _ranked(cand: Candidates, n_units: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positions sorted by unit, suitability (high first), cell; their units; unit bounds).

    ``cand`` is ordered by cell, so position order is cell order.
    """
    units = cand.units
    q = np.clip(np.round(cand.suit.astype(np.float64) * QUANTUM), 0, QUANTUM).astype(np.int64)
    positions = np.arange(len(units), dtype=np.int64)
    pos_bits = max(int(len(units)).bit_length(), 1)
    q_bits = QUANTUM.bit_length()
    unit_bits = max(int(n_units).bit_length(), 1)
    if pos_bits + q_bits + unit_bits <= 62:
        key = (units << (q_bits + pos_bits)) | ((QUANTUM - q) << pos_bits) | positions
        key.sort()
        order = key & ((1 << pos_bits) - 1)
    else:
        order = np.lexsort((positions, QUANTUM - q, units))
    ranked_units = units[order]
    return order, ranked_units, np.searchsorted(ranked_units, np.arange(n_units + 1))


def allocation_polygons(
    allocation: Allocation, grid: Grid
) -> list[tuple[int, int, shapely.Geometry, int, float]]:
    """The allocated cells as polygons, one (multi)polygon per gemeente and class.

    Each gemeente's cells are vectorised in the window they span, so no raster of the whole
    grid is needed.

    Returns
    -------
    list[tuple[int, int, shapely.Geometry, int, float]]
        (gemeente position, class, geometry, cells, mean suitability), by gemeente then class.
    """
    out = []
    order = np.lexsort((allocation.cells, allocation.gemeente))
    gem = allocation.gemeente[order]
    for g in np.unique(gem).tolist():
        idx = order[np.searchsorted(gem, g) : np.searchsorted(gem, g, side="right")]
        rows, cols = np.divmod(allocation.cells[idx], grid.cols)
        r0, c0 = int(rows.min()), int(cols.min())
        window = grid.window(r0, c0, int(rows.max()) - r0 + 1, int(cols.max()) - c0 + 1)
        labels = np.zeros(window.shape, dtype=np.int32)
        labels[rows - r0, cols - c0] = allocation.classes[idx]
        groups: dict[int, list[shapely.Geometry]] = {}
        for label, polygon in vectorise(labels, window, mask=labels > 0):
            groups.setdefault(label, []).append(polygon)
        for cls in sorted(groups):
            parts = groups[cls]
            of_class = idx[allocation.classes[idx] == cls]
            suit = float(np.sum(allocation.suit[of_class].astype(np.float64)) / len(of_class))
            geom = parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
            out.append((int(g), int(cls), geom, len(of_class), suit))
    return out


def cells_needed(gross_ha: np.ndarray, cell_ha: float) -> np.ndarray:
    """Whole cells to hold ``gross_ha`` (ceil, with a tolerance for float noise).

    Examples
    --------
    >>> cells_needed(np.array([0.0, 0.0625, 0.07, 1.0]), 0.0625).tolist()
    [0, 1, 2, 16]
    """
    raw = np.maximum(np.asarray(gross_ha, dtype=float), 0.0) / cell_ha
    return np.ceil(raw - 1e-9).astype(np.int64)


def gross_ha(uncovered_ha: np.ndarray, basis: str, ratio: float) -> np.ndarray:
    """Land (bruto) ha needed for uncovered demand on ``basis`` (netto ÷ ratio)."""
    return np.asarray(uncovered_ha, dtype=float) / (ratio if basis == "netto" else 1.0)


def placed_ha(
    cells: np.ndarray, cell_ha: float, uncovered_ha: np.ndarray, basis: str, ratio: float
) -> np.ndarray:
    """Demand placed on the basis: the cells' land on the basis, at most the uncovered demand."""
    land = np.asarray(cells, dtype=float) * cell_ha * (ratio if basis == "netto" else 1.0)
    return np.minimum(land, np.maximum(np.asarray(uncovered_ha, dtype=float), 0.0))
