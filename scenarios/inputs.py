"""What a run reads: the layers of a spec, each at one version, as plain arrays and tables.

The computation modules take an :class:`Inputs`; only :mod:`scenarios.runner` builds one
from the database (:func:`layers.store.read_features` at pinned versions). Tests build
them directly from geometries and frames.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class LayerData:
    """One layer at one version: feature ids, EPSG:28992 geometries, attributes."""

    name: str
    kind: str
    version: int
    geometries: np.ndarray
    properties: pd.DataFrame
    fids: np.ndarray | None = None
    synthetic: bool = False
    quality: dict | None = None
    """The data-quality report stored with this version at import (None: none)."""

    def __post_init__(self) -> None:
        self.geometries = np.asarray(self.geometries, dtype=object)
        self.properties = self.properties.reset_index(drop=True)
        if self.fids is None:
            self.fids = np.arange(1, len(self.geometries) + 1, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.geometries)

    def column(self, name: str, default: object = None) -> np.ndarray:
        """Values of attribute ``name`` (``default`` where the layer lacks the column)."""
        if name in self.properties.columns:
            return self.properties[name].to_numpy(dtype=object)
        return np.full(len(self), default, dtype=object)

    def numbers(self, name: str) -> np.ndarray:
        """Attribute ``name`` as floats (NaN where missing)."""
        if name not in self.properties.columns:
            return np.full(len(self), np.nan)
        return pd.to_numeric(self.properties[name], errors="coerce").to_numpy(dtype=float)

    def where(self, conditions: Mapping[str, Sequence[str]] | None) -> np.ndarray:
        """Mask of the features whose attributes match every ``field: [values]`` condition."""
        keep = np.ones(len(self), dtype=bool)
        for fld, values in (conditions or {}).items():
            wanted = {str(v) for v in values}
            keep &= np.array(
                [v is not None and str(v) in wanted for v in self.column(fld)], dtype=bool
            )
        return keep


@dataclass
class Inputs:
    """Every layer a run reads, by name, with the gemeenten and terreinen at hand."""

    layers: dict[str, LayerData]
    gemeenten: str
    bedrijventerreinen: str
    reserveringen: str | None = None
    strategische_locaties: str | None = None
    vestigingen: str | None = None
    landgebruik: str | None = None
    notes: list[str] = field(default_factory=list)
    """What was skipped (optional layers that do not exist)."""

    def get(self, name: str | None) -> LayerData | None:
        """The layer called ``name`` (None when it was not read)."""
        return self.layers.get(name) if name else None

    @property
    def versions(self) -> dict[str, int]:
        """Layer name → the version read, sorted by name."""
        return {name: self.layers[name].version for name in sorted(self.layers)}

    @property
    def synthetic(self) -> bool:
        """Whether any layer read is synthetic (demo data)."""
        return any(layer.synthetic for layer in self.layers.values())
