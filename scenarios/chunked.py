"""The chunked raster engine: the grid of a run as ``dask.array`` chunks, on any Dask scheduler.

Every raster is a ``dask.array`` of chunks of at most ``chunk_cells`` cells (square, a
multiple of the 256-cell GeoTIFF tile), so a task holds one chunk (and the halo of a distance
criterion), however large the grid:

- masks and labels are burned chunk by chunk with the functions of the in-memory path
  (:mod:`scenarios.suitability`), each chunk given only the geometries whose bounding box
  meets it (a ``shapely.STRtree`` query);
- each distance criterion is measured on its chunk plus a halo of ``max_distance_m``
  (``map_overlap``): a source farther away than that gives the criterion's score at
  ``max_distance_m`` or more, which is the same (the scores are clipped there), so the
  suitability is exactly the in-memory one;
- allocation: each chunk lists, per unit, only the candidate cells the unit could take
  (:func:`scenarios.allocation.shortlist`); the per-unit selection on these short lists takes
  the cells it would take on the whole grid, with the same ranking (suitability, then cell);
- rasters are written row of chunks by row of chunks (:class:`spatial.raster.GeoTiffWriter`),
  byte for byte the files of the in-memory path.

The scheduler is Dask's threaded one, or a ``distributed`` cluster at ``scheduler``
(``tcp://host:8786``): the workers need this package and get the geometries with the tasks
(no database access). The vector steps stay on the caller (PostGIS/geopandas).
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import dask
import dask.array as da
import numpy as np
import shapely
from rasterio.errors import NotGeoreferencedWarning

from scenarios import allocation as alloc
from scenarios.engine import Job, Need, Writers, suitability_strip
from scenarios.spec import Criterion
from scenarios.suitability import (
    constraint_raster,
    criterion_score,
    gemeente_raster,
    surface_geometries,
    weighted_suitability,
)
from spatial.grid import Grid
from spatial.raster import TILE, GeoTiffWriter, burn_mask, distance_to

MIN_CHUNK_CELLS = TILE * TILE

# rasterio silences this warning of its in-memory datasets with warnings.catch_warnings(),
# which is not thread-safe: burning chunks in threads lets it through now and then, about
# datasets that do have their geotransform.
warnings.filterwarnings("ignore", category=NotGeoreferencedWarning, module="rasterio")
#: Rows of chunks computed ahead on a cluster while the caller writes the previous one.
AHEAD = 2


def chunk_side(chunk_cells: int) -> int:
    """Side of the square chunks of at most ``chunk_cells`` cells: a multiple of the 256-cell
    tile, so that chunks burn exactly like the whole grid (:func:`spatial.raster.burn_mask`)
    and a row of chunks is whole GeoTIFF tile rows.

    Examples
    --------
    >>> chunk_side(4_194_304), chunk_side(1_000_000), chunk_side(65_536)
    (2048, 768, 256)
    """
    return max(TILE, math.isqrt(int(chunk_cells)) // TILE * TILE)


@lru_cache(maxsize=4)
def cluster_client(address: str) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address`` (one per process)."""
    from distributed import Client

    return Client(address, set_as_default=False)


@dataclass(frozen=True)
class Chunked:
    """The chunked engine: chunks of at most ``chunk_cells`` cells, on ``scheduler``.

    ``scheduler`` is None for Dask's threaded scheduler (this machine), or the address of a
    ``distributed`` scheduler (``tcp://host:8786``).
    """

    chunk_cells: int = 4_194_304
    scheduler: str | None = None

    def __post_init__(self) -> None:
        if self.chunk_cells < MIN_CHUNK_CELLS:
            raise ValueError(
                f"chunk_cells must be at least {MIN_CHUNK_CELLS}, not {self.chunk_cells}"
            )
        if self.scheduler is not None and "://" not in self.scheduler:
            raise ValueError(
                f"Dask scheduler {self.scheduler!r} is not an address like tcp://host:8786"
            )

    def rasters(self, job: Job) -> ChunkedRasters:
        """The rasters of the job: see :class:`scenarios.engine.Engine`."""
        client = cluster_client(self.scheduler) if self.scheduler else None
        lazy = _lazy_surface(job, chunk_side(self.chunk_cells))
        out = ChunkedRasters(job.grid, {}, alloc.Candidates.joined([]), lazy, job.need, client)
        out.first_pass(job.need, job.writers)
        return out


@dataclass
class _Lazy:
    """The lazy rasters of a run and the chunk layout."""

    gemeente: da.Array
    constraints: da.Array
    suitability: da.Array
    row_bounds: list[int]
    col_bounds: list[int]


@dataclass
class ChunkedRasters:
    """The rasters of a run on the chunked engine (see :class:`scenarios.engine.Rasters`)."""

    grid: Grid
    counts: dict[int, int]
    candidates: alloc.Candidates
    lazy: _Lazy
    need: Need
    client: Any = field(default=None, repr=False)

    def first_pass(self, need: Need, writers: Writers) -> None:
        """Compute every chunk once: write suitability and constraints, count, shortlist."""
        lazy = self.lazy
        suit_blocks = lazy.suitability.to_delayed()
        cons_blocks = lazy.constraints.to_delayed()
        gem_blocks = lazy.gemeente.to_delayed()
        shortlist = dask.delayed(_shortlist)
        rows = []
        for i in range(len(lazy.row_bounds) - 1):
            row = []
            for j in range(len(lazy.col_bounds) - 1):
                row.append(
                    shortlist(
                        suit_blocks[i, j],
                        cons_blocks[i, j],
                        gem_blocks[i, j],
                        need.unit_of,
                        self.grid.cols,
                        lazy.row_bounds[i],
                        lazy.col_bounds[j],
                        need.hmc,
                        need.other,
                    )
                )
            rows.append((list(suit_blocks[i]), list(cons_blocks[i]), row))
        counts = np.zeros(256, dtype=np.int64)
        parts = []
        for suits, cons, cands in self._rows(rows):
            writers.suitability.write(suitability_strip(np.hstack(suits)))
            strip = np.hstack(cons)
            writers.constraints.write(strip)
            counts += np.bincount(strip.ravel(), minlength=256)
            parts.extend(cands)
        self.counts = {c: int(n) for c, n in enumerate(counts) if n}
        self.candidates = alloc.Candidates.joined(parts)

    def write_allocation(self, allocation: alloc.Allocation, writer: GeoTiffWriter) -> None:
        """Write the allocation classes, row of chunks by row of chunks."""
        gem_blocks = self.lazy.gemeente.to_delayed()
        rows = [(list(gem_blocks[i]),) for i in range(gem_blocks.shape[0])]
        r0 = 0
        for (gems,) in self._rows(rows):
            unit = alloc.unit_raster(np.hstack(gems), self.need.unit_of)
            writer.write(alloc.class_raster(allocation, unit, self.grid.cols, row0=r0))
            r0 += unit.shape[0]

    def _rows(self, rows: list[tuple[list[Any], ...]]) -> Iterator[tuple[list[Any], ...]]:
        """The computed rows of chunks, in order (on a cluster, ``AHEAD`` rows in flight)."""
        if self.client is None:
            for row in rows:
                yield dask.compute(*row, scheduler="threads")
            return

        def submit(row: tuple[list[Any], ...]) -> list[list[Any]]:
            # one graph for the row (shared chunks computed once), one future a chunk, so each
            # comes straight from its worker (a future of a list gathers it on one worker first)
            futures = iter(self.client.compute([d for part in row for d in part]))
            return [[next(futures) for _ in part] for part in row]

        pending: deque = deque()
        todo = iter(rows)
        for row in todo:
            pending.append(submit(row))
            if len(pending) >= AHEAD:
                break
        while pending:
            futures = pending.popleft()
            done = tuple(self.client.gather(part) for part in futures)
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(submit(nxt))
            yield done


def _lazy_surface(job: Job, side: int) -> _Lazy:
    """The gemeente, constraint and suitability rasters as lazy chunked arrays."""
    grid = job.grid
    geo = surface_geometries(job.spec, job.inputs, job.gemeenten, job.table)
    row_bounds = [*range(0, grid.rows, side), grid.rows]
    col_bounds = [*range(0, grid.cols, side), grid.cols]
    windows = [
        [
            grid.window(r0, c0, r1 - r0, c1 - c0)
            for c0, c1 in zip(col_bounds, col_bounds[1:], strict=False)
        ]
        for r0, r1 in zip(row_bounds, row_bounds[1:], strict=False)
    ]
    gem = _blocks(
        windows,
        np.int32,
        [geo.gemeenten, geo.borders],
        lambda w, polys, idx, borders: dask.delayed(_gemeente_block)(polys, idx, borders, w),
        label_first=True,
    )
    gem_delayed = gem.to_delayed()
    constraints = _blocks(
        windows,
        np.uint8,
        [geo.no_hmc, geo.occupied, geo.excluded],
        lambda w, no_hmc, occupied, excluded, i, j: dask.delayed(_constraint_block)(
            no_hmc, occupied, excluded, w, gem_delayed[i, j]
        ),
        with_index=True,
    )
    scores = []
    for crit, sources in geo.criteria:
        mask = _blocks(
            windows,
            bool,
            [sources],
            lambda w, src: dask.delayed(_mask_block)(src, w),
        )
        halo = math.ceil(crit.max_distance_m / grid.cell_size) + 1
        # no more than the grid: a halo that long already reaches every cell
        depth = {0: min(halo, grid.rows), 1: min(halo, grid.cols)}
        scores.append(
            mask.map_overlap(
                _score_block,
                depth=depth,
                boundary="none",
                trim=True,
                dtype=np.float32,
                crit=crit,
                cell_size=grid.cell_size,
            ).rechunk(mask.chunks)  # back from what a halo longer than a chunk merged
        )
    crits = [crit for crit, _ in geo.criteria]
    suit = da.map_blocks(_suitability_block, constraints, *scores, crits=crits, dtype=np.float32)
    return _Lazy(gem, constraints, suit, row_bounds, col_bounds)


def _blocks(
    windows: list[list[Grid]],
    dtype: Any,
    geometry_sets: list[np.ndarray],
    task: Callable[..., Any],
    *,
    label_first: bool = False,
    with_index: bool = False,
) -> da.Array:
    """A chunked array of one task per window, each given the geometries near it.

    A task gets, per set, the geometries whose bounding box meets its window grown by a
    cell (in their order; with ``label_first`` also their positions in the first set).
    """
    trees = [shapely.STRtree(g) for g in geometry_sets]
    rows = []
    for i, row in enumerate(windows):
        blocks = []
        for j, w in enumerate(row):
            minx, miny, maxx, maxy = w.bounds
            cs = w.cell_size
            box = shapely.box(minx - cs, miny - cs, maxx + cs, maxy + cs)
            args: list[Any] = []
            for k, (geoms, tree) in enumerate(zip(geometry_sets, trees, strict=True)):
                idx = np.sort(tree.query(box))
                args.append(geoms[idx])
                if k == 0 and label_first:
                    args.append(idx)
            if with_index:
                args += [i, j]
            blocks.append(da.from_delayed(task(w, *args), shape=w.shape, dtype=np.dtype(dtype)))
        rows.append(blocks)
    return da.block(rows)


def _gemeente_block(
    polygons: np.ndarray, labels: np.ndarray, borders: np.ndarray, window: Grid
) -> np.ndarray:
    return gemeente_raster(polygons, labels, borders, window)


def _constraint_block(
    no_hmc: np.ndarray, occupied: np.ndarray, excluded: np.ndarray, window: Grid, gem: np.ndarray
) -> np.ndarray:
    return constraint_raster(no_hmc, occupied, excluded, window, gem)


def _mask_block(sources: np.ndarray, window: Grid) -> np.ndarray:
    return burn_mask(sources, window, all_touched=True)


def _score_block(mask: np.ndarray, *, crit: Criterion, cell_size: float) -> np.ndarray:
    """The criterion's score on a chunk with its halo (trimmed by ``map_overlap``)."""
    sampling = Grid(minx=0.0, maxy=0.0, cell_size=cell_size, rows=1, cols=1)
    return criterion_score(crit, distance_to(mask, sampling))


def _suitability_block(
    constraints: np.ndarray, *scores: np.ndarray, crits: list[Criterion]
) -> np.ndarray:
    return weighted_suitability(list(zip(crits, scores, strict=True)), constraints)


def _shortlist(
    suit: np.ndarray,
    constraints: np.ndarray,
    gem: np.ndarray,
    unit_of: np.ndarray,
    grid_cols: int,
    row0: int,
    col0: int,
    hmc_need: np.ndarray,
    other_need: np.ndarray,
) -> alloc.Candidates:
    unit = alloc.unit_raster(gem, unit_of)
    cand = alloc.candidates(suit, constraints, gem, unit, grid_cols, row0, col0)
    return alloc.shortlist(cand, hmc_need, other_need)
