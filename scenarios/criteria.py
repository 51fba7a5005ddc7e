"""Suitability criteria: a score in [0, 1] per cell from its distance to some layers.

Each criterion type is a small class on :class:`CriterionType`; :data:`CRITERIA` maps
the names used in specs to them (in the spirit of titiler's algorithm registry). A new
type is a class with a ``score`` method and one line in the registry.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np


class CriterionType:
    """Base class: turns distances (m) into scores in [0, 1]."""

    name: ClassVar[str]
    title: ClassVar[str]

    def score(self, distance_m: np.ndarray, max_distance_m: float) -> np.ndarray:
        """Score per cell (``float32``) from its distance to the criterion's layers."""
        raise NotImplementedError


class Proximity(CriterionType):
    """Near is good: 1 on the layer, falling linearly to 0 at ``max_distance_m``."""

    name = "proximity"
    title = "nabijheid (1 − d / dmax, niet onder 0)"

    def score(self, distance_m: np.ndarray, max_distance_m: float) -> np.ndarray:
        """``max(0, 1 − d / dmax)``.

        Examples
        --------
        >>> Proximity().score(np.array([0.0, 500.0, 2000.0]), 1000.0).tolist()
        [1.0, 0.5, 0.0]
        """
        return np.clip(1.0 - distance_m / np.float32(max_distance_m), 0.0, 1.0).astype(np.float32)


class DistanceFrom(CriterionType):
    """Far is good: 0 on the layer, rising linearly to 1 at ``max_distance_m``."""

    name = "distance_from"
    title = "afstand (d / dmax, niet boven 1)"

    def score(self, distance_m: np.ndarray, max_distance_m: float) -> np.ndarray:
        """``min(1, d / dmax)``; no layer features at all gives 1 everywhere.

        Examples
        --------
        >>> DistanceFrom().score(np.array([0.0, 500.0, np.inf]), 1000.0).tolist()
        [0.0, 0.5, 1.0]
        """
        return np.clip(distance_m / np.float32(max_distance_m), 0.0, 1.0).astype(np.float32)


CRITERIA: dict[str, type[CriterionType]] = {c.name: c for c in (Proximity, DistanceFrom)}


def criterion_type(name: str) -> CriterionType:
    """The criterion type called ``name``; KeyError names the known ones."""
    try:
        return CRITERIA[name]()
    except KeyError:
        raise KeyError(f"unknown criterion type {name!r}; known: {', '.join(CRITERIA)}") from None
