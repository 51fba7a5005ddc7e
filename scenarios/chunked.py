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

What the caller does is serial, so it is kept small: each chunk's task also returns its class
counts, its suitability as written and which of its cells lie in a unit (a bit a cell, kept
for writing the allocation), and the caller only stacks and writes.

The scheduler is Dask's threaded one, or a ``distributed`` cluster at ``scheduler``
(``tcp://host:8786``): the workers need this package and get each set of geometries once
(``Client.scatter``; no database access), a task only the positions of those near its chunk.
The vector steps stay on the caller (PostGIS/geopandas).
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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


#: The clients of :func:`cluster_client`, by scheduler address.
_clients: dict[str, Any] = {}


def cluster_client(address: str) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address`` (one per process)."""
    from distributed import Client

    client = _clients.get(address)
    if client is None or client.status in ("closing", "closed"):
        client = _clients[address] = Client(address, set_as_default=False)
    return client


def close_cluster_clients() -> None:
    """Close the clients of :func:`cluster_client`, e.g. before their scheduler stops: a client
    left open keeps reconnecting to a scheduler that is gone, in a thread of its own (whose
    retries draw from the global ``random``)."""
    while _clients:
        _clients.popitem()[1].close()


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
        # on a cluster each set of geometries goes to every worker once, not into every task
        put = (lambda a: client.scatter(a, broadcast=True, hash=False)) if client else _itself
        lazy = _lazy_surface(job, chunk_side(self.chunk_cells), put)
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
    inside: list[list[np.ndarray]] = field(default_factory=list, repr=False)
    """Per row of chunks, per chunk: which cells lie in a unit (``np.packbits``, row-major)."""

    def first_pass(self, need: Need, writers: Writers) -> None:
        """Compute every chunk once: write suitability and constraints, count, shortlist, and
        keep which cells lie in a unit (a bit a cell) for :meth:`write_allocation`."""
        lazy = self.lazy
        suit_blocks = lazy.suitability.to_delayed()
        cons_blocks = lazy.constraints.to_delayed()
        gem_blocks = lazy.gemeente.to_delayed()
        block = dask.delayed(_first_pass_block)
        rows = []
        for i in range(len(lazy.row_bounds) - 1):
            row = []
            for j in range(len(lazy.col_bounds) - 1):
                row.append(
                    block(
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
            rows.append((list(cons_blocks[i]), row))
        counts = np.zeros(256, dtype=np.int64)
        parts = []
        self.inside = []
        for cons, outs in self._rows(rows):
            writers.suitability.write(np.hstack([out.suitability for out in outs]))
            writers.constraints.write(np.hstack(cons))
            for out in outs:
                counts += out.counts
                parts.append(out.shortlist)
            self.inside.append([out.inside for out in outs])
        self.counts = {c: int(n) for c, n in enumerate(counts) if n}
        self.candidates = alloc.Candidates.joined(parts)

    def write_allocation(self, allocation: alloc.Allocation, writer: GeoTiffWriter) -> None:
        """Write the allocation classes, row of chunks by row of chunks (from the cells in a
        unit kept by the first pass: nothing is computed again)."""
        rb, cb = self.lazy.row_bounds, self.lazy.col_bounds
        for i, packed in enumerate(self.inside):
            h = rb[i + 1] - rb[i]
            inside = np.hstack(
                [
                    np.unpackbits(bits, count=h * (c1 - c0)).reshape(h, c1 - c0).view(bool)
                    for bits, c0, c1 in zip(packed, cb, cb[1:], strict=False)
                ]
            )
            writer.write(alloc.class_raster(allocation, inside, self.grid.cols, row0=rb[i]))

    def _rows(self, rows: list[tuple[list[Any], ...]]) -> Iterator[tuple[list[Any], ...]]:
        """The computed rows of chunks, in order (on a cluster, ``AHEAD`` rows in flight)."""
        if self.client is None:
            for row in rows:
                yield dask.compute(*row, scheduler="threads")
            return

        def submit(row: tuple[list[Any], ...]) -> list[list[Any]]:
            # one graph for the row (shared chunks computed once), one future a chunk, so each
            # comes straight from its worker (a future of a list gathers it on one worker first).
            # Sent as a low-level graph, which the scheduler culls to the row's keys: the
            # blocks' graphs hold the whole arrays, and a task of another row in them whose
            # inputs the scheduler has just let go makes it fail the update (a KeyError that
            # left a worker lost and the run waiting for ever).
            items = [d for part in row for d in part]
            graph: dict = {}
            for g in {id(d.dask): d.dask for d in items}.values():
                graph.update(g)
            futures = iter(self.client.get(graph, [d.key for d in items], sync=False))
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


def _itself(a: np.ndarray) -> np.ndarray:
    return a


def _lazy_surface(job: Job, side: int, put: Callable[[np.ndarray], Any] = _itself) -> _Lazy:
    """The gemeente, constraint and suitability rasters as lazy chunked arrays.

    ``put`` gives what the tasks get in place of each set of geometries: the array itself on
    threads, a future of it on a cluster (``Client.scatter``, sent to each worker once), so
    that a task carries only the positions of the geometries near its chunk.
    """
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
        put,
        lambda w, polys, idx, borders, b_idx: dask.delayed(_gemeente_block)(
            polys, idx, borders, b_idx, w
        ),
    )
    gem_delayed = gem.to_delayed()
    constraints = _blocks(
        windows,
        np.uint8,
        [geo.no_hmc, geo.occupied, geo.excluded],
        put,
        lambda w, *sets, i, j: dask.delayed(_constraint_block)(*sets, w, gem_delayed[i, j]),
        with_index=True,
    )
    scores = []
    for crit, sources in geo.criteria:
        mask = _blocks(
            windows,
            bool,
            [sources],
            put,
            lambda w, src, idx: dask.delayed(_mask_block)(src, idx, w),
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
    put: Callable[[np.ndarray], Any],
    task: Callable[..., Any],
    *,
    with_index: bool = False,
) -> da.Array:
    """A chunked array of one task per window, each given the geometries near it.

    A task gets, per set, ``put(set)`` and the sorted positions of the geometries whose
    bounding box meets its window grown by a cell (with ``with_index`` also the window's
    row and column of chunks, as ``i`` and ``j``).
    """
    trees = [shapely.STRtree(g) for g in geometry_sets]
    refs = [put(g) for g in geometry_sets]
    rows = []
    for i, row in enumerate(windows):
        blocks = []
        for j, w in enumerate(row):
            minx, miny, maxx, maxy = w.bounds
            cs = w.cell_size
            box = shapely.box(minx - cs, miny - cs, maxx + cs, maxy + cs)
            args: list[Any] = []
            for ref, tree in zip(refs, trees, strict=True):
                args += [ref, np.sort(tree.query(box))]
            index = {"i": i, "j": j} if with_index else {}
            blocks.append(
                da.from_delayed(task(w, *args, **index), shape=w.shape, dtype=np.dtype(dtype))
            )
        rows.append(blocks)
    return da.block(rows)


def _gemeente_block(
    polygons: np.ndarray, idx: np.ndarray, borders: np.ndarray, b_idx: np.ndarray, window: Grid
) -> np.ndarray:
    return gemeente_raster(polygons[idx], idx, borders[b_idx], window)


def _constraint_block(
    no_hmc: np.ndarray,
    i_no_hmc: np.ndarray,
    occupied: np.ndarray,
    i_occupied: np.ndarray,
    excluded: np.ndarray,
    i_excluded: np.ndarray,
    window: Grid,
    gem: np.ndarray,
) -> np.ndarray:
    return constraint_raster(
        no_hmc[i_no_hmc], occupied[i_occupied], excluded[i_excluded], window, gem
    )


def _mask_block(sources: np.ndarray, idx: np.ndarray, window: Grid) -> np.ndarray:
    return burn_mask(sources[idx], window, all_touched=True)


def _score_block(mask: np.ndarray, *, crit: Criterion, cell_size: float) -> np.ndarray:
    """The criterion's score on a chunk with its halo (trimmed by ``map_overlap``)."""
    sampling = Grid(minx=0.0, maxy=0.0, cell_size=cell_size, rows=1, cols=1)
    return criterion_score(crit, distance_to(mask, sampling))


def _suitability_block(
    constraints: np.ndarray, *scores: np.ndarray, crits: list[Criterion]
) -> np.ndarray:
    return weighted_suitability(list(zip(crits, scores, strict=True)), constraints)


@dataclass
class _FirstPass:
    """What the first pass keeps of a chunk (small but for the suitability, which it writes)."""

    shortlist: alloc.Candidates
    inside: np.ndarray
    """Which cells lie in a unit, ``np.packbits`` of the chunk (row-major)."""
    suitability: np.ndarray
    """The suitability as written (:func:`scenarios.engine.suitability_strip`)."""
    counts: np.ndarray
    """Cells per constraint class (256 counts)."""


def _first_pass_block(
    suit: np.ndarray,
    constraints: np.ndarray,
    gem: np.ndarray,
    unit_of: np.ndarray,
    grid_cols: int,
    row0: int,
    col0: int,
    hmc_need: np.ndarray,
    other_need: np.ndarray,
) -> _FirstPass:
    """What the first pass keeps of a chunk, computed where the chunk is."""
    unit = alloc.unit_raster(gem, unit_of)
    cand = alloc.candidates(suit, constraints, gem, unit, grid_cols, row0, col0)
    return _FirstPass(
        shortlist=alloc.shortlist(cand, hmc_need, other_need),
        inside=np.packbits(unit >= 0, axis=None),
        suitability=suitability_strip(suit),
        counts=np.bincount(constraints.ravel(), minlength=256),
    )
