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
from scenarios.spec import Criterion, DistanceLayer, LayerRef, ScenarioSpec
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


@dataclass
class SurfaceGeometries:
    """The geometries a surface is burned from (EPSG:28992), prepared once per run.

    The in-memory path burns them on the whole grid, the chunked one
    (:mod:`scenarios.chunked`) chunk by chunk; both with the functions below, so the cells
    are the same.
    """

    gemeenten: np.ndarray
    """The gemeente polygons; a cell's label is the position of the one holding its centre."""
    borders: np.ndarray
    """Their boundaries: cells they touch belong to no gemeente."""
    no_hmc: np.ndarray
    """Richtafstand buffers of new HMC space (grown, see the module text)."""
    occupied: np.ndarray
    """Existing terreinen, reserveringen and strategische locaties (polygons)."""
    excluded: np.ndarray
    """Features of the exclude rules, grown by their buffers."""
    criteria: list[tuple[Criterion, np.ndarray]]
    """Each criterion of positive weight with the geometries it measures to."""


def surface_geometries(
    spec: ScenarioSpec, inputs: Inputs, gemeenten: Gemeenten, table: MilieucategorieTable
) -> SurfaceGeometries:
    """The geometries of the rasters of ``spec``."""
    return SurfaceGeometries(
        gemeenten=np.asarray(gemeenten.geometries, dtype=object),
        borders=shapely.boundary(gemeenten.geometries),
        no_hmc=no_hmc_geometries(spec, inputs, table),
        occupied=occupied_geometries(inputs),
        excluded=excluded_geometries(spec, inputs),
        criteria=[
            (crit, np.concatenate([selected_geometries(inputs, ref) for ref in crit.layers]))
            for crit in spec.allocation.criteria
            if crit.weight > 0
        ],
    )


def gemeente_raster(
    polygons: np.ndarray, labels: np.ndarray, borders: np.ndarray, grid: Grid
) -> np.ndarray:
    """int32: the label of the gemeente wholly holding each cell, -1 on borders and outside.

    ``labels`` are the gemeenten's positions (later polygons win where they overlap).
    """
    gem = burn_labels(polygons, labels, grid, fill=-1)
    gem[burn_mask(borders, grid, all_touched=True)] = -1
    return gem


def constraint_raster(
    no_hmc: np.ndarray, occupied: np.ndarray, excluded: np.ndarray, grid: Grid, gem: np.ndarray
) -> np.ndarray:
    """uint8 constraint classes (later classes win: no HMC, occupied, excluded, outside)."""
    constraints = np.full(grid.shape, FREE, dtype=np.uint8)
    constraints[burn_mask(no_hmc, grid, all_touched=True)] = NO_HMC
    constraints[burn_mask(occupied, grid, all_touched=True)] = OCCUPIED
    constraints[burn_mask(excluded, grid, all_touched=True)] = EXCLUDED
    constraints[gem < 0] = OUTSIDE
    return constraints


def criterion_score(crit: Criterion, distance_m: np.ndarray) -> np.ndarray:
    """float32 score of a criterion from the distances (m) to its geometries."""
    return criterion_type(crit.type).score(distance_m, crit.max_distance_m)


def weighted_suitability(
    scored: list[tuple[Criterion, np.ndarray]], constraints: np.ndarray
) -> np.ndarray:
    """The weighted mean of the scores (1 without criteria); NaN where no new space may go."""
    if not scored:
        suit = np.ones(constraints.shape, dtype=np.float32)
    else:
        total = np.zeros(constraints.shape, dtype=np.float32)
        weights = 0.0
        for crit, score in scored:
            total += np.float32(crit.weight) * score
            weights += crit.weight
        suit = (total / np.float32(weights)).astype(np.float32)
    suit[(constraints == EXCLUDED) | (constraints == OCCUPIED) | (constraints == OUTSIDE)] = np.nan
    return suit


def build_surface(
    spec: ScenarioSpec, inputs: Inputs, gemeenten: Gemeenten, table: MilieucategorieTable
) -> Surface:
    """Grid, gemeente raster, constraint classes and suitability for a spec, in memory.

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
    geo = surface_geometries(spec, inputs, gemeenten, table)
    gem = gemeente_raster(geo.gemeenten, np.arange(len(geo.gemeenten)), geo.borders, grid)
    constraints = constraint_raster(geo.no_hmc, geo.occupied, geo.excluded, grid, gem)
    scored = [
        (crit, criterion_score(crit, distance_to(burn_mask(sources, grid, all_touched=True), grid)))
        for crit, sources in geo.criteria
    ]
    suit = weighted_suitability(scored, constraints)
    return Surface(grid=grid, gemeente=gem, constraints=constraints, suitability=suit)


def _grown(geoms: np.ndarray, distance: float | np.ndarray) -> np.ndarray:
    """Buffers at least ``distance`` wide everywhere (the polygon around the circle)."""
    return shapely.buffer(
        geoms, distance / math.cos(math.pi / (4 * QUAD_SEGS)), quad_segs=QUAD_SEGS
    )


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.array([], dtype=object)


def excluded_geometries(spec: ScenarioSpec, inputs: Inputs) -> np.ndarray:
    """Features of the exclude rules (grown by each rule's buffer)."""
    parts = []
    for rule in spec.constraints.exclude:
        geoms = selected_geometries(inputs, rule)
        if rule.buffer_m > 0 and len(geoms):
            geoms = _grown(geoms, rule.buffer_m)
        parts.append(geoms)
    return _joined(parts)


def occupied_geometries(inputs: Inputs) -> np.ndarray:
    """Existing terreinen, reserveringen and strategische locaties (polygons)."""
    parts = []
    for name in (inputs.bedrijventerreinen, inputs.reserveringen, inputs.strategische_locaties):
        layer = inputs.get(name)
        if layer is not None and len(layer):
            parts.append(layer.geometries[shapely.area(layer.geometries) > 0])
    return _joined(parts)


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


def no_hmc_geometries(
    spec: ScenarioSpec, inputs: Inputs, table: MilieucategorieTable
) -> np.ndarray:
    """Richtafstand buffers of new HMC space around the HMC rule's layers (none if disabled)."""
    rule = spec.constraints.hmc_richtafstand
    if not rule.enabled:
        return np.array([], dtype=object)
    category = hmc_category(spec, table)
    parts = []
    for ref in rule.layers:
        layer = inputs.get(ref.layer)
        if layer is None or not len(layer):
            continue
        geoms, distance = richtafstand_buffers(layer, ref, category, table)
        parts.append(_grown(geoms, distance))
    return _joined(parts)
