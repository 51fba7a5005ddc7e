"""QGIS layer styles (QML) from a :class:`layers.styles.LayerStyle`.

The renderer is rule-based (one rule per legend entry, in legend order), or a single
symbol for an unclassified style. A fill symbol is a ``SimpleFill`` without outline plus a
``SimpleLine`` outline, so that dash patterns match the web maps; lines are
``SimpleLine``, points ``SimpleMarker`` circles. Widths in pixels become millimetres at
96 dpi. Field aliases carry the Dutch labels of the kind, so QGIS forms and the attribute
table show them. Readable by QGIS 3.22 and later (``<prop>`` symbol properties).
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping

from layers.styles import LayerStyle, StyleRule, Symbol, rgb

MM_PER_PX = 25.4 / 96
QGIS_VERSION = "3.22.0-Białowieża"
#: Geometry family → QGIS symbol type.
SYMBOL_TYPES = {"polygon": "fill", "line": "line", "point": "marker"}


def geometry_family(geometry_type: str) -> str:
    """``polygon``, ``line``, ``point`` or ``mixed`` for an OGC geometry type name."""
    g = geometry_type.lower().replace("multi", "")
    if g in ("polygon", "curvepolygon", "surface"):
        return "polygon"
    if g in ("linestring", "curve", "linearring"):
        return "line"
    if g == "point":
        return "point"
    return "mixed"


def _colour(colour: str | None, opacity: float = 1.0) -> str:
    r, g, b = rgb(colour)
    return f"{r},{g},{b},{round(255 * opacity)}"


def _mm(px: float) -> str:
    return f"{px * MM_PER_PX:.3f}"


def _props(parent: ET.Element, values: Mapping[str, str]) -> None:
    for k, v in values.items():
        ET.SubElement(parent, "prop", k=k, v=v)


def _line_layer(parent: ET.Element, s: Symbol) -> None:
    layer = ET.SubElement(
        parent, "layer", {"class": "SimpleLine", "enabled": "1", "locked": "0", "pass": "0"}
    )
    props = {
        "line_color": _colour(s.stroke),
        "line_width": _mm(s.width),
        "line_width_unit": "MM",
        "line_style": "solid",
        "capstyle": "round",
        "joinstyle": "round",
        "use_custom_dash": "1" if s.dash else "0",
        "customdash": ";".join(_mm(d) for d in (s.dash or (5, 2))),
        "customdash_unit": "MM",
    }
    _props(layer, props)


def _symbol(parent: ET.Element, name: str, family: str, s: Symbol) -> None:
    symbol_type = SYMBOL_TYPES[family]
    sym = ET.SubElement(
        parent,
        "symbol",
        {"type": symbol_type, "name": name, "alpha": "1", "clip_to_extent": "1", "force_rhr": "0"},
    )
    if symbol_type == "fill":
        fill = ET.SubElement(
            sym, "layer", {"class": "SimpleFill", "enabled": "1", "locked": "0", "pass": "0"}
        )
        _props(
            fill,
            {
                "color": _colour(s.fill, s.fill_opacity),
                "style": "solid" if s.fill else "no",
                "outline_style": "no",
                "outline_color": _colour(s.stroke),
                "outline_width": "0",
                "outline_width_unit": "MM",
            },
        )
        if s.stroke:
            _line_layer(sym, s)
    elif symbol_type == "line":
        _line_layer(sym, s)
    else:
        marker = ET.SubElement(
            sym, "layer", {"class": "SimpleMarker", "enabled": "1", "locked": "0", "pass": "0"}
        )
        _props(
            marker,
            {
                "name": "circle",
                "color": _colour(s.fill or s.stroke, s.fill_opacity),
                "outline_color": _colour(s.stroke or s.fill),
                "outline_style": "solid" if s.stroke else "no",
                "outline_width": _mm(s.width),
                "outline_width_unit": "MM",
                "size": _mm(2 * s.radius),
                "size_unit": "MM",
                "scale_method": "diameter",
            },
        )


def _rules(renderer: ET.Element, family: str, rules: list[StyleRule]) -> None:
    root = ET.SubElement(
        renderer, "rules", key="{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "root")) + "}"
    )
    symbols = ET.SubElement(renderer, "symbols")
    for i, rule in enumerate(rules):
        attrs = {
            "key": "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"rule-{i}-{rule.label}")) + "}",
            "symbol": str(i),
            "label": rule.label,
        }
        if rule.expression:
            attrs["filter"] = rule.expression
        ET.SubElement(root, "rule", attrs)
        _symbol(symbols, str(i), family, rule.symbol)


def qml_element(
    style: LayerStyle, geometry_type: str, labels: Mapping[str, str] | None = None
) -> ET.Element:
    """The ``<qgis>`` element of the style for a layer of ``geometry_type`` (mixed: polygon)."""
    family = geometry_family(geometry_type)
    if family == "mixed":
        family = "polygon"
    qgis = ET.Element("qgis", version=QGIS_VERSION, styleCategories="Symbology|Fields")
    if len(style.rules) == 1 and style.rules[0].expression is None:
        renderer = ET.SubElement(
            qgis,
            "renderer-v2",
            type="singleSymbol",
            symbollevels="0",
            enableorderby="0",
            forceraster="0",
        )
        symbols = ET.SubElement(renderer, "symbols")
        _symbol(symbols, "0", family, style.rules[0].symbol)
    else:
        renderer = ET.SubElement(
            qgis,
            "renderer-v2",
            type="RuleRenderer",
            symbollevels="0",
            enableorderby="0",
            forceraster="0",
        )
        _rules(renderer, family, style.rules)
    if labels:
        aliases = ET.SubElement(qgis, "aliases")
        for i, (name, label) in enumerate(labels.items()):
            ET.SubElement(aliases, "alias", field=name, index=str(i), name=label)
    ET.SubElement(qgis, "layerGeometryType").text = {"point": "0", "line": "1", "polygon": "2"}[
        family
    ]
    return qgis


def to_qml(style: LayerStyle, geometry_type: str, labels: Mapping[str, str] | None = None) -> str:
    """The style as a QML document (text)."""
    body = ET.tostring(qml_element(style, geometry_type, labels), encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"
