"""Styled Layer Descriptor (SLD 1.0.0) from a :class:`layers.styles.LayerStyle`.

One ``Rule`` per legend entry with an OGC filter (``PropertyIsEqualTo``,
``PropertyIsGreaterThanOrEqualTo``) or ``ElseFilter``; polygons get a
``PolygonSymbolizer``, lines a ``LineSymbolizer`` and points a circle ``Mark``. Sizes are
in pixels, as on the web maps. GeoServer, MapServer and QGIS read it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from layers.qml import geometry_family
from layers.styles import LayerStyle, StyleRule, Symbol

SLD = "http://www.opengis.net/sld"
OGC = "http://www.opengis.net/ogc"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ET.register_namespace("sld", SLD)
ET.register_namespace("ogc", OGC)
ET.register_namespace("xlink", XLINK)
ET.register_namespace("xsi", XSI)


def _el(
    parent: ET.Element, tag: str, text: str | None = None, ns: str = SLD, **attrs: str
) -> ET.Element:
    e = ET.SubElement(parent, f"{{{ns}}}{tag}", attrs)
    if text is not None:
        e.text = text
    return e


def _param(parent: ET.Element, name: str, value: str) -> None:
    _el(parent, "CssParameter", value, name=name)


def _stroke(parent: ET.Element, s: Symbol) -> None:
    if not s.stroke:
        return
    stroke = _el(parent, "Stroke")
    _param(stroke, "stroke", s.stroke)
    _param(stroke, "stroke-width", f"{s.width:g}")
    if s.dash:
        _param(stroke, "stroke-dasharray", " ".join(f"{d:g}" for d in s.dash))


def _fill(parent: ET.Element, colour: str | None, opacity: float) -> None:
    if not colour:
        return
    fill = _el(parent, "Fill")
    _param(fill, "fill", colour)
    _param(fill, "fill-opacity", f"{opacity:g}")


def _symbolizer(rule_el: ET.Element, family: str, s: Symbol) -> None:
    if family == "polygon":
        sym = _el(rule_el, "PolygonSymbolizer")
        _fill(sym, s.fill, s.fill_opacity)
        _stroke(sym, s)
    elif family == "line":
        _stroke(_el(rule_el, "LineSymbolizer"), s)
    else:
        graphic = _el(_el(rule_el, "PointSymbolizer"), "Graphic")
        mark = _el(graphic, "Mark")
        _el(mark, "WellKnownName", "circle")
        _fill(mark, s.fill or s.stroke, s.fill_opacity)
        _stroke(mark, s)
        _el(graphic, "Size", f"{2 * s.radius:g}")


def _filter(rule_el: ET.Element, rule: StyleRule) -> None:
    if rule.is_else:
        _el(rule_el, "ElseFilter")
        return
    if rule.field is None:
        return
    flt = _el(rule_el, "Filter", ns=OGC)
    op = "PropertyIsGreaterThanOrEqualTo" if rule.at_least is not None else "PropertyIsEqualTo"
    cmp = _el(flt, op, ns=OGC)
    _el(cmp, "PropertyName", rule.field, ns=OGC)
    _el(
        cmp,
        "Literal",
        f"{rule.at_least:g}" if rule.at_least is not None else str(rule.value),
        ns=OGC,
    )


def to_sld(style: LayerStyle, layer_name: str, geometry_type: str) -> str:
    """The style of layer ``layer_name`` as an SLD 1.0.0 document (text)."""
    family = geometry_family(geometry_type)
    if family == "mixed":
        family = "polygon"
    root = ET.Element(
        f"{{{SLD}}}StyledLayerDescriptor",
        {
            "version": "1.0.0",
            f"{{{XSI}}}schemaLocation": "http://www.opengis.net/sld http://schemas.opengis.net/sld/1.0.0/StyledLayerDescriptor.xsd",
        },
    )
    layer = _el(root, "NamedLayer")
    _el(layer, "Name", layer_name)
    user = _el(layer, "UserStyle")
    _el(user, "Name", style.key)
    _el(user, "Title", style.title)
    fts = _el(user, "FeatureTypeStyle")
    for rule in style.rules:
        rule_el = _el(fts, "Rule")
        _el(rule_el, "Name", rule.label)
        _el(rule_el, "Title", rule.label)
        _filter(rule_el, rule)
        _symbolizer(rule_el, family, rule.symbol)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
