"""The grid, the constraint masks and the suitability raster of a run.

- The grid is aligned to RD (cell edges on multiples of the cell size) and covers the gemeenten.
- A cell can take new space when it lies wholly inside one gemeente (cells on a border
  are left out, so that every allocated cell counts for exactly one gemeente), touches no
  excluded feature (``all_touched``, after the rule's buffer) and no existing terrein,
  reservering or strategische locatie (those are supply, not new space).
- New HMC space also keeps the VNG richtafstand of its category from the HMC rule's layers
  (rustig or gemengd per feature): the buffers are drawn slightly larger than the
  distance (the polygon around the circle), so a free cell is at least that far away.
- Suitability is the weighted mean of the criteria scores (:mod:`scenarios.criteria`)
  from distances between cell centres (exact Euclidean distance transform).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely

from layers.milieucategorie import MilieucategorieTable
from scenarios.criteria import criterion_type
from scenarios.inputs import Inputs, LayerData
from scenarios.spec import DistanceLayer, LayerRef, ScenarioSpec
from scenarios.units import Gemeenten
from spatial.grid import Grid
from spatial.raster import burn_labels, burn_mask, distance_to

#: Segments per quarter circle of the richtafstand buffers.
QUAD_SEGS = 16
#: Classes of the ``constraints`` raster.
FREE, EXCLUDED, OCCUPIED, NO_HMC, OUTSIDE = 0, 1, 2, 3, 255


@dataclass
class Surface:
    """Everything the allocation needs on the grid."""

    grid: Grid
    gemeente: np.ndarray
    """Position of the gemeente wholly holding each cell; -1 on borders and outside."""
    constraints: np.ndarray
    """uint8 classes: FREE, EXCLUDED, OCCUPIED, NO_HMC (free, but not for HMC), OUTSIDE."""
    suitability: np.ndarray
    """float32 in [0, 1]; NaN where no new space may go."""
    notes: list[str] = field(default_factory=list)

    @property
    def free(self) -> np.ndarray:
        """Cells open to new space of any kind."""
        return (self.constraints == FREE) | (self.constraints == NO_HMC)

    @property
    def hmc_allowed(self) -> np.ndarray:
        """Cells open to new HMC space."""
        return self.constraints == FREE


def province_grid(gemeenten: Gemeenten, cell_size: float) -> Grid:
    """The RD-aligned grid covering the gemeenten."""
    return Grid.aligned(tuple(shapely.total_bounds(gemeenten.geometries)), cell_size)


def selected_geometries(inputs: Inputs, ref: LayerRef) -> np.ndarray:
    """Geometries of the features of ``ref`` that match its ``where`` (none if not read)."""
    layer = inputs.get(ref.layer)
    if layer is None:
        return np.array([], dtype=object)
    return layer.geometries[layer.where(ref.where)]


def build_surface(
    spec: ScenarioSpec, inputs: Inputs, gemeenten: Gemeenten, table: MilieucategorieTable
) -> Surface:
    """Grid, gemeente raster, constraint classes and suitability for a spec.

    Parameters
    ----------
    spec
        The scenario (allocation, constraints).
    inputs
        The layers read.
    gemeenten
        The gemeenten (positions label the gemeente raster).
    table
        The milieucategorie table (richtafstanden).

    Returns
    -------
    Surface
        The rasters on the aligned grid.
    """
    grid = province_grid(gemeenten, spec.allocation.cell_size_m)
    gem = burn_labels(gemeenten.geometries, range(len(gemeenten)), grid, fill=-1)
    borders = burn_mask(shapely.boundary(gemeenten.geometries), grid, all_touched=True)
    gem[borders] = -1
    constraints = np.full(grid.shape, FREE, dtype=np.uint8)
    constraints[no_hmc_mask(spec, inputs, grid, table)] = NO_HMC
    constraints[occupied_mask(inputs, grid)] = OCCUPIED
    constraints[excluded_mask(spec, inputs, grid)] = EXCLUDED
    constraints[gem < 0] = OUTSIDE
    suit = suitability(spec, inputs, grid)
    suit[(constraints == EXCLUDED) | (constraints == OCCUPIED) | (constraints == OUTSIDE)] = np.nan
    return Surface(grid=grid, gemeente=gem, constraints=constraints, suitability=suit)


def excluded_mask(spec: ScenarioSpec, inputs: Inputs, grid: Grid) -> np.ndarray:
    """Cells touching a feature of an exclude rule (grown by its buffer)."""
    mask = np.zeros(grid.shape, dtype=bool)
    for rule in spec.constraints.exclude:
        geoms = selected_geometries(inputs, rule)
        if rule.buffer_m > 0 and len(geoms):
            geoms = shapely.buffer(
                geoms, rule.buffer_m / math.cos(math.pi / (4 * QUAD_SEGS)), quad_segs=QUAD_SEGS
            )
        mask |= burn_mask(geoms, grid, all_touched=True)
    return mask


def occupied_mask(inputs: Inputs, grid: Grid) -> np.ndarray:
    """Cells touching an existing terrein, a reservering or a strategische locatie (polygons)."""
    mask = np.zeros(grid.shape, dtype=bool)
    for name in (inputs.bedrijventerreinen, inputs.reserveringen, inputs.strategische_locaties):
        layer = inputs.get(name)
        if layer is not None and len(layer):
            polygons = layer.geometries[shapely.area(layer.geometries) > 0]
            mask |= burn_mask(polygons, grid, all_touched=True)
    return mask


def hmc_category(spec: ScenarioSpec, table: MilieucategorieTable) -> str:
    """The milieucategorie of new HMC space: the rule's category, else the HMC threshold."""
    code = spec.constraints.hmc_richtafstand.category or spec.hmc_threshold
    return table.normalise(code) or code


def richtafstand_buffers(
    layer: LayerData, rule: DistanceLayer, category: str, table: MilieucategorieTable
) -> tuple[np.ndarray, np.ndarray]:
    """(features, richtafstand in m per feature) of a distance layer, by omgevingstype."""
    keep = layer.where(rule.where)
    types = omgevingstypen(layer, rule)[keep]
    distance = np.array([table.richtafstand(category, t) for t in types], dtype=float)
    return layer.geometries[keep], distance


def omgevingstypen(layer: LayerData, rule: DistanceLayer) -> np.ndarray:
    """Omgevingstype per feature: the field's value where valid, else the rule's default."""
    values = (
        layer.column(rule.omgevingstype_field)
        if rule.omgevingstype_field
        else np.full(len(layer), None)
    )
    return np.array(
        [v if v in ("rustig", "gemengd") else rule.omgevingstype for v in values], dtype=object
    )


def no_hmc_mask(
    spec: ScenarioSpec, inputs: Inputs, grid: Grid, table: MilieucategorieTable
) -> np.ndarray:
    """Cells within the richtafstand of new HMC space from the HMC rule's layers."""
    mask = np.zeros(grid.shape, dtype=bool)
    rule = spec.constraints.hmc_richtafstand
    if not rule.enabled:
        return mask
    category = hmc_category(spec, table)
    for ref in rule.layers:
        layer = inputs.get(ref.layer)
        if layer is None or not len(layer):
            continue
        geoms, distance = richtafstand_buffers(layer, ref, category, table)
        grown = shapely.buffer(
            geoms, distance / math.cos(math.pi / (4 * QUAD_SEGS)), quad_segs=QUAD_SEGS
        )
        mask |= burn_mask(grown, grid, all_touched=True)
    return mask


def suitability(spec: ScenarioSpec, inputs: Inputs, grid: Grid) -> np.ndarray:
    """Weighted mean of the criteria scores (1 everywhere without criteria)."""
    criteria = [c for c in spec.allocation.criteria if c.weight > 0]
    if not criteria:
        return np.ones(grid.shape, dtype=np.float32)
    total = np.zeros(grid.shape, dtype=np.float32)
    weights = 0.0
    for crit in criteria:
        sources = np.concatenate([selected_geometries(inputs, ref) for ref in crit.layers])
        dist = distance_to(burn_mask(sources, grid, all_touched=True), grid)
        total += np.float32(crit.weight) * criterion_type(crit.type).score(
            dist, crit.max_distance_m
        )
        weights += crit.weight
    return (total / np.float32(weights)).astype(np.float32)
