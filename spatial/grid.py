"""A raster grid aligned to the RD New origin, and moving between cells and geometry.

Every grid here has square cells of ``cell_size`` metres whose edges fall on multiples
of the cell size in EPSG:28992, so that grids of the same cell size line up exactly,
whatever area they cover: two runs over different extents share their cells, and a
GeoTIFF written from one opens on top of another in QGIS without resampling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from affine import Affine


@dataclass(frozen=True)
class Grid:
    """A north-up grid: top-left corner, cell size (m) and shape (rows, cols)."""

    minx: float
    maxy: float
    cell_size: float
    rows: int
    cols: int

    @classmethod
    def aligned(cls, bounds: tuple[float, float, float, float], cell_size: float) -> Grid:
        """The smallest aligned grid covering ``bounds`` (minx, miny, maxx, maxy).

        Parameters
        ----------
        bounds
            Extent to cover, in RD metres.
        cell_size
            Cell size in metres (> 0).

        Returns
        -------
        Grid
            Edges on multiples of ``cell_size``.

        Examples
        --------
        >>> Grid.aligned((10.0, 20.0, 61.0, 70.0), 25.0)
        Grid(minx=0.0, maxy=75.0, cell_size=25.0, rows=3, cols=3)
        """
        if not cell_size > 0:
            raise ValueError(f"cell size must be positive, not {cell_size}")
        minx, miny, maxx, maxy = bounds
        if not (math.isfinite(minx) and math.isfinite(maxy) and maxx >= minx and maxy >= miny):
            raise ValueError(f"bounds {bounds} are not minx, miny, maxx, maxy")
        x0 = math.floor(minx / cell_size) * cell_size
        y1 = math.ceil(maxy / cell_size) * cell_size
        x1 = math.ceil(maxx / cell_size) * cell_size
        y0 = math.floor(miny / cell_size) * cell_size
        cols = max(int(round((x1 - x0) / cell_size)), 1)
        rows = max(int(round((y1 - y0) / cell_size)), 1)
        return cls(minx=float(x0), maxy=float(y1), cell_size=float(cell_size), rows=rows, cols=cols)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        return (self.rows, self.cols)

    @property
    def size(self) -> int:
        """Number of cells."""
        return self.rows * self.cols

    @property
    def transform(self) -> Affine:
        """The affine transform from (col, row) to RD coordinates."""
        return Affine(self.cell_size, 0.0, self.minx, 0.0, -self.cell_size, self.maxy)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) of the whole grid."""
        return (
            self.minx,
            self.maxy - self.rows * self.cell_size,
            self.minx + self.cols * self.cell_size,
            self.maxy,
        )

    def window(self, row: int, col: int, rows: int, cols: int) -> Grid:
        """The part of this grid from cell (``row``, ``col``), ``rows`` × ``cols`` cells.

        Examples
        --------
        >>> Grid(minx=0.0, maxy=100.0, cell_size=25.0, rows=4, cols=4).window(1, 2, 2, 2)
        Grid(minx=50.0, maxy=75.0, cell_size=25.0, rows=2, cols=2)
        """
        return Grid(
            minx=self.minx + col * self.cell_size,
            maxy=self.maxy - row * self.cell_size,
            cell_size=self.cell_size,
            rows=rows,
            cols=cols,
        )

    @property
    def cell_ha(self) -> float:
        """Area of one cell in ha."""
        return self.cell_size * self.cell_size / 10_000.0

    def cell_boxes(self, flat_indices: np.ndarray) -> np.ndarray:
        """The cells at row-major ``flat_indices`` as square polygons."""
        rows, cols = np.divmod(np.asarray(flat_indices, dtype=np.int64), self.cols)
        x0 = self.minx + cols * self.cell_size
        y1 = self.maxy - rows * self.cell_size
        return shapely.box(x0, y1 - self.cell_size, x0 + self.cell_size, y1)

    def cell_centres(self, flat_indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """RD x and y of the centres of the cells at row-major ``flat_indices``."""
        rows, cols = np.divmod(np.asarray(flat_indices, dtype=np.int64), self.cols)
        half = self.cell_size / 2.0
        return self.minx + cols * self.cell_size + half, self.maxy - rows * self.cell_size - half
