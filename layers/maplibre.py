"""MapLibre (Mapbox GL) style documents from the style definitions (``layers/data/styles.yaml``).

The same :class:`layers.styles.LayerStyle` rules that QML and SLD are written from become
style layers over the vector tiles: a ``fill`` and a ``line`` for polygons, a ``line`` for
lines and a ``circle`` for points, each rule with its filter (``field = value``,
``field >= n``, or the rest). One document per layer, and one for all kaartlagen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from layers.styles import LayerStyle, StyleRule

#: MapLibre's name of each geometry family (``["geometry-type"]``; multi-types included).
GEOMETRY_TYPES = {"polygon": "Polygon", "line": "LineString", "point": "Point"}


@dataclass(frozen=True)
class StyledSource:
    """One layer's tiles and style: the source id, its TileJSON URL, the layer name inside
    the tiles, the style rules and the geometry families it holds."""

    id: str
    tilejson_url: str
    source_layer: str
    style: LayerStyle
    families: Sequence[str]
    attribution: str | None = None


def _rule_filter(rule: StyleRule, rules: Sequence[StyleRule]) -> list[Any] | None:
    if rule.is_else:
        others = [f for r in rules if not r.is_else and (f := _rule_filter(r, rules))]
        return ["!", ["any", *others]] if others else None
    if rule.field is None:
        return None
    if rule.at_least is not None:
        return [">=", ["to-number", ["get", rule.field], -1e300], rule.at_least]
    return ["==", ["to-string", ["get", rule.field]], str(rule.value)]


def _opacity(value: float) -> float:
    return round(max(0.0, min(1.0, value)), 3)


def style_layers(source: StyledSource) -> list[dict[str, Any]]:
    """The style layers of one source, in drawing order (polygons, lines, points)."""
    out: list[dict[str, Any]] = []
    rules = source.style.rules
    for family in ("polygon", "line", "point"):
        if family not in source.families:
            continue
        geom = ["==", ["geometry-type"], GEOMETRY_TYPES[family]]
        for i, rule in enumerate(rules):
            flt = _rule_filter(rule, rules)
            where = ["all", geom, flt] if flt else geom
            sym = rule.symbol
            base = {
                "source": source.id,
                "source-layer": source.source_layer,
                "filter": where,
                "metadata": {"ruimte:label": rule.label},
            }
            if family == "polygon":
                if sym.fill:
                    out.append(
                        {
                            **base,
                            "id": f"{source.id}-{family}-{i}-fill",
                            "type": "fill",
                            "paint": {
                                "fill-color": sym.fill,
                                "fill-opacity": _opacity(sym.fill_opacity),
                            },
                        }
                    )
                if sym.stroke:
                    out.append(_line(base, f"{source.id}-{family}-{i}-line", sym))
            elif family == "line":
                out.append(_line(base, f"{source.id}-{family}-{i}", sym))
            else:
                out.append(
                    {
                        **base,
                        "id": f"{source.id}-{family}-{i}",
                        "type": "circle",
                        "paint": {
                            "circle-radius": sym.radius,
                            "circle-color": sym.fill or sym.stroke or "#000000",
                            "circle-opacity": _opacity(sym.fill_opacity if sym.fill else 1.0),
                            "circle-stroke-color": sym.stroke or "#000000",
                            "circle-stroke-width": 1,
                        },
                    }
                )
    return out


def _line(base: dict[str, Any], layer_id: str, sym: Any) -> dict[str, Any]:
    paint: dict[str, Any] = {"line-color": sym.stroke or "#000000", "line-width": sym.width}
    if sym.dash:
        paint["line-dasharray"] = [max(d / max(sym.width, 1.0), 0.1) for d in sym.dash]
    return {**base, "id": layer_id, "type": "line", "paint": paint}


def maplibre_style(name: str, sources: Sequence[StyledSource]) -> dict[str, Any]:
    """A MapLibre style (version 8) drawing ``sources`` over a plain background."""
    layers: list[dict[str, Any]] = [
        {"id": "achtergrond", "type": "background", "paint": {"background-color": "#f8f8f5"}}
    ]
    for src in sources:
        layers += style_layers(src)
    return {
        "version": 8,
        "name": name,
        "metadata": {"ruimte:legend": {s.id: [r.label for r in s.style.rules] for s in sources}},
        "sources": {
            s.id: {
                "type": "vector",
                "url": s.tilejson_url,
                **({"attribution": s.attribution} if s.attribution else {}),
            }
            for s in sources
        },
        "layers": layers,
    }
