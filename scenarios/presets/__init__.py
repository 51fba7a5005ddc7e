"""Shipped scenario presets: one YAML file per preset in this directory.

A preset is an ordinary spec. A spec file may build on one with ``base: NAME`` and
change only what differs (see :func:`scenarios.validation.resolve_base`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

PRESET_DIR = Path(__file__).parent


def preset_names() -> list[str]:
    """Names of the shipped presets, sorted."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def preset_data(name: str) -> dict[str, Any] | None:
    """The raw (unvalidated) mapping of preset ``name``, or None when there is none."""
    if name not in preset_names():
        return None
    return _read(str(PRESET_DIR / f"{name}.yaml"))


@lru_cache(maxsize=16)
def _read_cached(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def _read(path: str) -> dict[str, Any]:
    data = yaml.safe_load(_read_cached(path))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a preset must be a mapping")
    return data
