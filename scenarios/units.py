"""The units figures are reported and allocated in: gemeenten, and regions of gemeenten."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from scenarios.inputs import LayerData


@dataclass
class Gemeenten:
    """The gemeenten of a run, sorted by statcode, with the region of each (or None)."""

    statcodes: np.ndarray
    namen: np.ndarray
    geometries: np.ndarray
    regions: np.ndarray

    @classmethod
    def from_layer(
        cls, layer: LayerData, regions: Mapping[str, Sequence[str]] | None = None
    ) -> Gemeenten:
        """Build from a ``gemeenten`` layer and the spec's regions (region → statcodes)."""
        codes = layer.column("statcode")
        order = np.argsort(codes.astype(str), kind="stable")
        region_of = {code: name for name, members in (regions or {}).items() for code in members}
        statcodes = codes[order].astype(str)
        return cls(
            statcodes=statcodes,
            namen=layer.column("naam")[order].astype(str),
            geometries=layer.geometries[order],
            regions=np.array([region_of.get(c) for c in statcodes], dtype=object),
        )

    def __len__(self) -> int:
        return len(self.statcodes)

    @property
    def index(self) -> dict[str, int]:
        """Statcode → position."""
        return {c: i for i, c in enumerate(self.statcodes)}

    @property
    def region_names(self) -> list[str]:
        """The regions that hold at least one of these gemeenten, sorted."""
        return sorted({r for r in self.regions if r is not None})

    def region_index(self) -> np.ndarray:
        """Position of each gemeente's region in :attr:`region_names` (-1: none)."""
        names = {r: i for i, r in enumerate(self.region_names)}
        return np.array([names.get(r, -1) for r in self.regions], dtype=np.int64)
