"""Raster engines: where the grid of a run is computed, in memory or in chunks on Dask.

An engine turns the spec's geometries into the constraint classes and the suitability of
the grid, counts the cells of each class, lists the candidate cells of the allocation and
writes the rasters (strip by strip, :class:`spatial.raster.GeoTiffWriter`). Both engines
burn, measure and rank with the same functions (:mod:`scenarios.suitability`,
:mod:`scenarios.allocation`), so they give the same figures and the same bytes:

- :class:`InMemory`: the whole grid as numpy arrays (about 48 bytes a cell at its peak);
- :class:`scenarios.chunked.Chunked`: ``dask.array`` chunks of at most ``chunk_cells``
  cells, on the threaded scheduler or a ``distributed`` cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from layers.milieucategorie import MilieucategorieTable
from scenarios import allocation as alloc
from scenarios.inputs import Inputs
from scenarios.spec import ScenarioSpec
from scenarios.suitability import Surface, build_surface
from scenarios.units import Gemeenten
from spatial.grid import Grid
from spatial.raster import GeoTiffWriter

SUITABILITY_NODATA = -9999.0


@dataclass
class Need:
    """What the allocation needs of the grid: the unit of each gemeente and cells per unit."""

    unit_of: np.ndarray
    """Unit position of each gemeente position (-1: in no unit)."""
    hmc: np.ndarray
    other: np.ndarray


@dataclass
class Writers:
    """The GeoTIFFs of a run being written."""

    suitability: GeoTiffWriter
    constraints: GeoTiffWriter
    allocation: GeoTiffWriter


class Rasters(Protocol):
    """The raster side of a run once the grid is computed."""

    grid: Grid
    counts: dict[int, int]
    """Cells per constraint class."""
    candidates: alloc.Candidates
    """Every cell the allocation may take (or enough of them, see :func:`allocation.shortlist`)."""

    def write_allocation(self, allocation: alloc.Allocation, writer: GeoTiffWriter) -> None:
        """Write the allocation classes, strip by strip."""


@dataclass
class Job:
    """What an engine computes the grid of: a run's spec, inputs, grid, needs and GeoTIFFs."""

    spec: ScenarioSpec
    inputs: Inputs
    gemeenten: Gemeenten
    table: MilieucategorieTable
    grid: Grid
    need: Need
    writers: Writers


class Engine(Protocol):
    """Computes the grid of a run."""

    def rasters(self, job: Job) -> Rasters:
        """Constraints and suitability (written to ``job.writers``), counts and candidates."""


def suitability_strip(suit: np.ndarray) -> np.ndarray:
    """Suitability as written: NaN (no new space) as :data:`SUITABILITY_NODATA`."""
    return np.where(np.isfinite(suit), suit, np.float32(SUITABILITY_NODATA)).astype(np.float32)


def class_counts(constraints: np.ndarray) -> dict[int, int]:
    """Cells per constraint class."""
    counts = np.bincount(constraints.ravel(), minlength=256)
    return {c: int(n) for c, n in enumerate(counts) if n}


@dataclass
class _MemoryRasters:
    grid: Grid
    counts: dict[int, int]
    candidates: alloc.Candidates
    surface: Surface
    unit: np.ndarray

    def write_allocation(self, allocation: alloc.Allocation, writer: GeoTiffWriter) -> None:
        writer.write(alloc.class_raster(allocation, self.unit >= 0, self.grid.cols))


class InMemory:
    """The whole grid at once, in numpy arrays."""

    def rasters(self, job: Job) -> Rasters:
        """The rasters of the job: see :class:`Engine`."""
        surface = build_surface(job.spec, job.inputs, job.gemeenten, job.table)
        job.writers.suitability.write(suitability_strip(surface.suitability))
        job.writers.constraints.write(surface.constraints)
        unit = alloc.unit_raster(surface.gemeente, job.need.unit_of)
        cand = alloc.candidates(
            surface.suitability, surface.constraints, surface.gemeente, unit, job.grid.cols
        )
        return _MemoryRasters(job.grid, class_counts(surface.constraints), cand, surface, unit)

    def __repr__(self) -> str:
        return "InMemory()"


class SharedSurface:
    """The whole grid at once, computed for the first job and reused for the next ones.

    For the variants of an ensemble that differ only in demand and supply
    (:func:`scenarios.ensemble.shares_surface`): the suitability surface, the constraint
    classes and the candidate cells depend on the allocation, the constraints, the HMC
    threshold and the layers, which are then the same for every variant. Each job still gets
    the GeoTIFFs written (from the shared arrays), so a variant's run is the in-memory one, to
    the byte. A job whose grid or units differ from the first's is an error, not a silent reuse.
    """

    def __init__(self) -> None:
        self._first: tuple[Grid, bytes, _MemoryRasters] | None = None

    def rasters(self, job: Job) -> Rasters:
        """The rasters of the job: see :class:`Engine`."""
        key = job.need.unit_of.tobytes()
        if self._first is None:
            surface = build_surface(job.spec, job.inputs, job.gemeenten, job.table)
            unit = alloc.unit_raster(surface.gemeente, job.need.unit_of)
            cand = alloc.candidates(
                surface.suitability, surface.constraints, surface.gemeente, unit, job.grid.cols
            )
            counts = class_counts(surface.constraints)
            self._first = (job.grid, key, _MemoryRasters(job.grid, counts, cand, surface, unit))
        grid, first_key, rasters = self._first
        if grid != job.grid or first_key != key:
            raise ValueError("SharedSurface: a job on another grid or with other units")
        job.writers.suitability.write(suitability_strip(rasters.surface.suitability))
        job.writers.constraints.write(rasters.surface.constraints)
        return rasters

    def __repr__(self) -> str:
        return "SharedSurface()"
