"""Map styles as data (``layers/data/styles.yaml``), shared by the web maps, QML and SLD.

A style key (a layer kind or a scenario style) has a base symbol and optionally a
classification. :func:`resolve` turns one into a list of :class:`StyleRule` (label,
filter, symbol) for one layer, which :mod:`layers.qml` and :mod:`layers.sld` write out;
the web maps read the same definitions as JSON (:func:`styles_json`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from layers.kinds import Kind

STYLES_FILE = Path(__file__).parent / "data" / "styles.yaml"
DEFAULT_HMC_THRESHOLD = "4"
SYMBOL_KEYS = ("stroke", "width", "dash", "fill", "fill_opacity", "radius", "shape")


@dataclass(frozen=True)
class Symbol:
    """How a feature is drawn: stroke, fill and (points) radius, in screen pixels."""

    stroke: str | None = None
    width: float = 1.0
    dash: tuple[float, ...] | None = None
    fill: str | None = None
    fill_opacity: float = 1.0
    radius: float = 5.0
    shape: str | None = None
    """Legend swatch (area, line or point); None: from the layer's geometry."""

    def merged(self, overrides: Mapping[str, Any]) -> Symbol:
        """This symbol with ``overrides`` (symbol keys only) applied."""
        values = {k: v for k, v in overrides.items() if k in SYMBOL_KEYS}
        if "dash" in values and values["dash"] is not None:
            values["dash"] = tuple(float(d) for d in values["dash"])
        return replace(self, **values)


@dataclass(frozen=True)
class StyleRule:
    """One legend entry: which features (``field`` = ``value``, ``field`` ≥ ``at_least``,
    or the rest when both are None) and how they are drawn."""

    label: str
    symbol: Symbol
    field: str | None = None
    value: str | None = None
    at_least: float | None = None
    is_else: bool = False

    @property
    def expression(self) -> str | None:
        """The rule as a QGIS expression (None: every feature)."""
        if self.is_else:
            return "ELSE"
        if self.field is None:
            return None
        if self.at_least is not None:
            return f'to_real("{self.field}") >= {self.at_least:g}'
        return f'"{self.field}" = ' + "'" + str(self.value).replace("'", "''") + "'"


@dataclass(frozen=True)
class LayerStyle:
    """The resolved style of one layer: its rules, in drawing (and legend) order."""

    key: str
    title: str
    rules: list[StyleRule] = field(default_factory=list)


@lru_cache(maxsize=2)
def load_styles(path: str | None = None) -> dict[str, dict[str, Any]]:
    """The style definitions by key (cached)."""
    with open(path or STYLES_FILE, encoding="utf-8") as fh:
        # libyaml's parser where there is one: a tenth of the time of the Python one.
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


def styles_json() -> str:
    """The definitions as JSON, for the web maps."""
    return json.dumps(load_styles(), ensure_ascii=False, separators=(",", ":"))


def _base(spec: Mapping[str, Any]) -> Symbol:
    return Symbol().merged(spec.get("symbol") or {})


def resolve(
    key: str, title: str, kind: Kind | None = None, hmc_threshold: str = DEFAULT_HMC_THRESHOLD
) -> LayerStyle:
    """The rules of style ``key`` for a layer titled ``title`` (unknown keys: ``default``).

    ``kind`` gives the Dutch labels of palette values; ``hmc_threshold`` is the lowest
    milieucategorie counted as HMC.
    """
    styles = load_styles()
    spec = styles.get(key) or styles["default"]
    base = _base(spec)
    cls = spec.get("classify")
    if cls is None:
        legend = spec.get("legend") or {}
        symbol = base.merged({"shape": legend.get("shape")}) if legend.get("shape") else base
        return LayerStyle(key, title, [StyleRule(legend.get("label") or title, symbol)])
    fld = cls["field"]
    rules: list[StyleRule] = []
    if "classes" in cls:
        for c in cls["classes"]:
            label = str(c["label"]).replace("{threshold}", hmc_threshold)
            symbol = base.merged(c)
            if "at_least" in c:
                lowest = float(hmc_threshold if c["at_least"] == "hmc" else c["at_least"])
                rules.append(StyleRule(label, symbol, fld, at_least=lowest))
            elif "value" in c:
                rules.append(StyleRule(label, symbol, fld, value=str(c["value"])))
            else:
                rules.append(StyleRule(label, symbol, fld, is_else=True))
        return LayerStyle(key, title, rules)
    value_labels = dict((kind.fields[fld].values or {}) if kind and fld in kind.fields else {})
    template = cls.get("legend_label")
    for value, colour in cls["palette"].items():
        colours = {"fill": colour} if cls.get("fill_only") else {"stroke": colour, "fill": colour}
        label = (
            template.replace("{value}", str(value))
            if template
            else value_labels.get(str(value), str(value))
        )
        rules.append(StyleRule(label, base.merged(colours), fld, value=str(value)))
    default = cls.get("default")
    if default:
        colours = (
            {"fill": default} if cls.get("fill_only") else {"stroke": default, "fill": default}
        )
        rules.append(StyleRule("Overig", base.merged(colours), fld, is_else=True))
    return LayerStyle(key, title, rules)


def layer_style(
    kind: Kind, title: str, hmc_threshold: str = DEFAULT_HMC_THRESHOLD, key: str | None = None
) -> LayerStyle:
    """The style of a layer of ``kind`` (its kind's style, or ``key``)."""
    return resolve(key or kind.name, title, kind, hmc_threshold)


def rgb(colour: str | None) -> tuple[int, int, int]:
    """``#rrggbb`` (or ``#rgb``) as an RGB tuple; None is black."""
    if not colour:
        return (0, 0, 0)
    c = colour.lstrip("#")
    if len(c) == 3:
        c = "".join(ch * 2 for ch in c)
    return (int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16))


def style_field(key: str) -> str | None:
    """The attribute style ``key`` classifies by (None: one symbol for every feature)."""
    styles = load_styles()
    spec = styles.get(key) or styles["default"]
    return (spec.get("classify") or {}).get("field")
