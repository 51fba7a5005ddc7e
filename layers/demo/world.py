"""The frame every demo layer is generated in: gemeenten, kernen, water, rail, roads, seeds."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import shapely

from layers.demo.gemeenten import Kern, kernen_for
from layers.demo.geo import MOTORWAYS, RAILWAYS, lines, polygonal, waterway_polygons

#: Residential land per inhabitant (m²) before scaling to the woonterrein target; only
#: the relative size of the kernen matters.
M2_PER_INWONER = 115.0


@dataclass
class Gemeenten:
    """The gemeenten in use (already checked and in EPSG:28992)."""

    statcodes: np.ndarray
    names: np.ndarray
    geometries: np.ndarray

    def __post_init__(self) -> None:
        self._tree = shapely.STRtree(self.geometries)
        self._index = {str(c): i for i, c in enumerate(self.statcodes)}

    def geometry(self, statcode: str) -> shapely.Geometry:
        """The polygon of one gemeente."""
        return self.geometries[self._index[statcode]]

    def name(self, statcode: str) -> str:
        """The name of one gemeente."""
        return str(self.names[self._index[statcode]])

    def locate(self, geoms: np.ndarray) -> np.ndarray:
        """Statcode of the gemeente holding each geometry's point on surface (None outside)."""
        points = shapely.point_on_surface(np.asarray(geoms, dtype=object))
        out = np.full(len(points), None, dtype=object)
        pairs = self._tree.query(points, predicate="within")
        for feat, gem in zip(pairs[0], pairs[1], strict=True):
            if out[feat] is None:
                out[feat] = str(self.statcodes[gem])
        return out


@dataclass
class World:
    """Everything the layer generators share, derived from the gemeenten and the seed."""

    seed: int
    gemeenten: Gemeenten
    kernen: list[Kern] = field(default_factory=list)

    @classmethod
    def build(
        cls, seed: int, statcodes: np.ndarray, names: np.ndarray, geometries: np.ndarray
    ) -> World:
        """The world for these gemeenten."""
        gem = Gemeenten(
            np.asarray(statcodes, dtype=object),
            np.asarray(names, dtype=object),
            np.asarray(geometries),
        )
        return cls(
            seed=seed, gemeenten=gem, kernen=kernen_for(gem.statcodes, gem.names, gem.geometries)
        )

    def rng(self, stream: str) -> np.random.Generator:
        """An independent random generator per layer (same seed and stream → same numbers)."""
        return np.random.default_rng([self.seed, zlib.crc32(stream.encode("utf-8"))])

    @cached_property
    def province(self) -> shapely.Geometry:
        """The union of the gemeenten."""
        return shapely.union_all(self.gemeenten.geometries)

    @cached_property
    def water(self) -> list[tuple[str, bool, shapely.Geometry]]:
        """Rivers, canals and lakes inside the province: (naam, vaarweg, polygon)."""
        return waterway_polygons(self.province)

    @cached_property
    def water_union(self) -> shapely.Geometry:
        """All water as one geometry."""
        return shapely.union_all([g for _, _, g in self.water])

    @cached_property
    def vaarwegen(self) -> shapely.Geometry:
        """Water used by freight shipping, as one geometry."""
        return shapely.union_all([g for _, vaarweg, g in self.water if vaarweg])

    @cached_property
    def rail(self) -> shapely.Geometry:
        """Railways inside the province."""
        return shapely.intersection(lines(RAILWAYS), self.province)

    @cached_property
    def motorways(self) -> shapely.Geometry:
        """Motorways inside the province."""
        return shapely.intersection(lines(MOTORWAYS), self.province)

    @cached_property
    def verkeer(self) -> shapely.Geometry:
        """Land taken by motorways and railways (corridors), inside the province."""
        corridors = shapely.union_all(
            [self.rail.buffer(20.0, quad_segs=2), self.motorways.buffer(50.0, quad_segs=2)]
        )
        return polygonal(shapely.intersection(corridors, self.province))

    def kern_radius(self, kern: Kern) -> float:
        """Radius (m) of a disc with the kern's residential area at the nominal density."""
        return float(np.sqrt(kern.inwoners * M2_PER_INWONER / np.pi))

    def kernen_of(self, statcode: str) -> list[Kern]:
        """The kernen of one gemeente."""
        return [k for k in self.kernen if k.statcode == statcode]

    def inwoners(self, statcode: str) -> int:
        """Population of one gemeente (sum of its kernen)."""
        return sum(k.inwoners for k in self.kernen_of(statcode))
