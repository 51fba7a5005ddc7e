"""The frame every demo layer is generated in: gemeenten, kernen, water, rail, roads, seeds."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import shapely

from layers import boundaries
from layers.demo.area import (
    Infrastructure,
    Kern,
    Targets,
    gemeente_profiles,
    infrastructure,
    regions_for,
    targets_for,
)
from layers.demo.gemeenten import kernen_for
from layers.demo.geo import lines, polygonal, waterway_polygons

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
    targets: Targets
    kernen: list[Kern] = field(default_factory=list)
    regions: dict[str, str] = field(default_factory=dict)
    """Region per gemeente statcode (for the circulaire deelgebieden)."""

    @classmethod
    def build(
        cls,
        seed: int,
        statcodes: np.ndarray,
        names: np.ndarray,
        geometries: np.ndarray,
        area: str = boundaries.DEFAULT_AREA,
    ) -> World:
        """The world for these gemeenten, with the demo targets of the work area ``area``.

        The targets are those of the provinces the gemeenten lie in (by CBS membership) where
        they are all known; otherwise those of ``area`` (a province code or name, or ``NL``).
        """
        gem = Gemeenten(
            np.asarray(statcodes, dtype=object),
            np.asarray(names, dtype=object),
            np.asarray(geometries),
        )
        kernen = kernen_for(gem.statcodes, gem.names, gem.geometries, seed)
        member = boundaries.province_of(gem.statcodes)
        known = all(m is not None for m in member)
        work = boundaries.work_area(area)
        provinces = sorted(set(member)) if known else _provinces_of(work)
        area_ha = float(shapely.area(gem.geometries).sum()) / 10_000.0
        prov = boundaries.provincies()
        names_of = dict(zip(prov["statcode"], prov["naam"], strict=True))
        province_names = (
            {str(c): names_of[m] for c, m in zip(gem.statcodes, member, strict=True)}
            if known
            else None
        )
        codes = [str(c) for c in gem.statcodes]
        return cls(
            seed=seed,
            gemeenten=gem,
            targets=targets_for(provinces, area_ha),
            kernen=kernen,
            regions=regions_for(codes, gem.geometries, kernen, province_names),
        )

    def economic_weight(self, statcode: str) -> float:
        """How much more (and larger) terreinen a gemeente has than its size suggests."""
        return gemeente_profiles().get(statcode, ("", 1.0))[1]

    @cached_property
    def infrastructure(self) -> Infrastructure:
        """Waterways, railways, motorways and ridges: hand-drawn or synthetic."""
        return infrastructure(
            [str(c) for c in self.gemeenten.statcodes], self.kernen, self.province, self.seed
        )

    @cached_property
    def ridges(self) -> shapely.Geometry:
        """Forest ridges (woods and heath lie within a few km)."""
        return lines(self.infrastructure.ridges)

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
        infra = self.infrastructure
        return waterway_polygons(self.province, infra.waterways, infra.lakes)

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
        return shapely.intersection(lines(self.infrastructure.railways), self.province)

    @cached_property
    def motorways(self) -> shapely.Geometry:
        """Motorways inside the province."""
        return shapely.intersection(lines(self.infrastructure.motorways), self.province)

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


def _provinces_of(area: boundaries.WorkArea) -> list[str]:
    """The province statcodes a work area is made of."""
    if area.national:
        return [str(c) for c in boundaries.provincies()["statcode"]]
    return [area.statcode]
