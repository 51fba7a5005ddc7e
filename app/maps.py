"""Folium maps that work without internet: Leaflet and plugins come from this app.

A map holds kaartlagen as :class:`RuimteLayer` elements (see ``static/ruimte-map.js``):
small layers are embedded as GeoJSON built by PostGIS; large ones come as vector tiles
(``/tiles``, Leaflet.VectorGrid), or by bbox from the features API when the map shows a
selection (a gemeente, a distance), so the HTML stays small whatever the layer size.
Each layer carries its style definition from ``layers/data/styles.yaml``, the same one
the QGIS styles of exported GeoPackages are made from.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

import folium
from branca.element import Element, Figure
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template
from sqlalchemy import Connection

from app.basemap import Basemap
from app.nl_format import getal, plain_fields
from app.settings import WebSettings
from app.static_files import asset_url
from layers.access import PUBLIC, Viewer
from layers.kinds import Kind, load_kinds
from layers.query import (
    FeatureQuery,
    count_features,
    feature_stats,
    query_features,
    union_outline,
)
from layers.store import LayerInfo
from layers.styles import load_styles

# Every asset URL carries its content hash: browsers keep the files (app.static_files).
LEAFLET_JS = [("leaflet", asset_url("/static/leaflet/leaflet.js"))]
LEAFLET_CSS = [("leaflet_css", asset_url("/static/leaflet/leaflet.css"))]
RUIMTE_JS = [("ruimte_map", asset_url("/static/ruimte-map.js"))]
RUIMTE_CSS = [("ruimte_map_css", asset_url("/static/ruimte-map.css"))]
FULLSCREEN_JS = [
    ("fullscreen_js", asset_url("/static/vendor/leaflet.fullscreen/Control.FullScreen.js"))
]
FULLSCREEN_CSS = [
    ("fullscreen_css", asset_url("/static/vendor/leaflet.fullscreen/Control.FullScreen.css"))
]
SYNC_JS = [("leaflet_sync", asset_url("/static/vendor/leaflet.sync/L.Map.Sync.js"))]
VECTORGRID_JS = [
    (
        "leaflet_vectorgrid",
        asset_url("/static/vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js"),
    )
]
#: Layers of more features than this are drawn from zoom 11 on (their tiles are too full below).
TILE_MIN_ZOOM_ABOVE = 20_000
#: Kinds whose popups show these fields first (the rest follows).
TOOLTIP_FIELD = {
    "gemeenten": "naam",
    "bedrijventerreinen": "naam",
    "reserveringen": "naam",
    "strategische_locaties": "naam",
    "hoofdstructuur": "naam",
    "vestigingen": "naam",
    "constraints": "naam",
    "landgebruik": "klasse",
}
#: The group of the layer control a kind's layers are listed in.
LAYER_GROUPS = {
    "gemeenten": "Grenzen en ondergrond",
    "landgebruik": "Grenzen en ondergrond",
    "reserveringen": "Beleid",
    "strategische_locaties": "Beleid",
    "hoofdstructuur": "Beleid",
    "bedrijventerreinen": "Bedrijventerreinen",
    "vestigingen": "Bedrijventerreinen",
    "constraints": "Randvoorwaarden",
    "allocatie": "Scenario's",
    "frequentie": "Scenario's",
    "fasering": "Scenario's",
    "dekking": "Scenario's",
    "milieuzones": "Scenario's",
    "conflicten": "Scenario's",
}
#: The order of the groups in the layer control (scenario runs follow, newest first).
GROUP_ORDER = [
    "Beleid",
    "Bedrijventerreinen",
    "Randvoorwaarden",
    "Gemeente",
    "Grenzen en ondergrond",
    "Overige kaartlagen",
]
_RUN_LAYER_RE = re.compile(r"^run-(\d+)-")


def run_of_layer(name: str) -> int | None:
    """The scenario run a derived layer (``run-{id}-{role}``) belongs to, if any."""
    m = _RUN_LAYER_RE.match(name)
    return int(m.group(1)) if m else None


def run_group(run_id: int, spec_name: str | None = None) -> str:
    """The layer-control group of one scenario run."""
    return f"Scenario run {run_id}" + (f": {spec_name}" if spec_name else "")


def layer_group(info: LayerInfo, run_names: dict[int, str] | None = None) -> str:
    """The layer-control group of a layer: by kind, one group per scenario run."""
    run = run_of_layer(info.name)
    if run is not None:
        return run_group(run, (run_names or {}).get(run))
    return LAYER_GROUPS.get(info.kind, "Overige kaartlagen")


def json_for_html(payload: Any) -> str:
    """``payload`` (an object or JSON text) as JSON text that is inert inside an HTML element.

    ``<``, ``>`` and ``&`` can only occur inside JSON strings, where ``\\u003c`` etc. mean
    the same to ``JSON.parse``; so no value can close the element or start markup.
    U+2028/2029 are escaped too (line terminators in older JavaScript).
    """
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return _JSON_HTML_RE.sub(lambda m: _JSON_HTML_ESCAPES[m.group()], text)


_JSON_HTML_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_JSON_HTML_RE = re.compile("[<>&\u2028\u2029]")


class RawElement(Element):
    """Markup output exactly as given.

    branca compiles the output of every macro as a new Jinja template, so data inside a
    macro's output would be evaluated on the server (``{{ 7*7 }}`` in a name became 49).
    Data therefore never passes through a macro: it goes into the page as a RawElement.
    """

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        """The text itself, never a template."""
        return self.text


class DataMixin(folium.MacroElement):
    """An element whose data reaches the page as a ``<script type="application/json">`` block.

    The element's script reads it with ``RuimteMap.data(id)``; the block's id is
    ``<element name>-data``.
    """

    payload_text: str = "null"

    def set_payload(self, payload: Any) -> None:
        """The data (an object or JSON text) for the page script."""
        self.payload_text = json_for_html(payload)

    def render(self, **kwargs: Any) -> None:
        """Add the data block to the page body, then render as usual."""
        block = (
            f'<script type="application/json" id="{self.get_name()}-data">'
            f"{self.payload_text}</script>"
        )
        self.get_root().html.add_child(RawElement(block), name=f"{self.get_name()}-data")
        super().render(**kwargs)


def _data_script(call: str) -> Template:
    """A macro template ending the call opened by ``call`` with the element's data block.

    ``call`` is code up to the last argument, e.g. ``"RuimteMap.legend(map, "``.
    """
    return Template(
        "{% macro script(this, kwargs) %}"
        + call
        + 'RuimteMap.data("{{ this.get_name() }}-data"));'
        + "{% endmacro %}"
    )


class RuimteLayer(DataMixin, JSCSSMixin, Layer):
    """A kaartlaag drawn by ``RuimteMap.layer`` (embedded data, vector tiles or bbox loading).

    Its options and features reach the page as a JSON data block that the page script
    parses; nothing of the data is ever part of the script itself.
    """

    default_js = VECTORGRID_JS + RUIMTE_JS
    default_css = RUIMTE_CSS
    _template = _data_script("var {{ this.get_name() }} = RuimteMap.layer(")

    def __init__(
        self,
        options: dict[str, Any],
        data_json: str | None = None,
        show: bool = True,
        control: bool = True,
    ):
        super().__init__(name=options["title"], overlay=True, control=control, show=show)
        self._name = "RuimteLayer"
        if "styleDef" not in options:
            styles = load_styles()
            options = {
                **options,
                "styleDef": styles.get(options.get("styleKey") or "", styles["default"]),
            }
        self.options = options
        options_json = json.dumps(options, ensure_ascii=False)
        self.set_payload('{"options": ' + options_json + ', "data": ' + (data_json or "null") + "}")


class Legend(DataMixin, JSCSSMixin):
    """A legend of the layers currently on the map."""

    default_js = RUIMTE_JS
    default_css = RUIMTE_CSS
    _template = _data_script("RuimteMap.legend({{ this._parent.get_name() }}, ")

    def __init__(self, title: str = "Legenda"):
        super().__init__()
        self._name = "Legend"
        self.set_payload({"title": title})


class LayerControl(DataMixin, JSCSSMixin):
    """The layer control: base maps and the map's kaartlagen in groups, named in DOM text.

    Collapsed to a button unless ``collapsed`` is False; the groups (each layer's
    ``group`` option) come in :data:`GROUP_ORDER` after the ``first`` ones. Replaces
    ``folium.LayerControl``: Leaflet's control writes layer names as HTML, and
    folium passes them through a template, so a layer title could inject markup or code.
    Add it after the layers.
    """

    default_js = RUIMTE_JS
    _template = Template(
        "{% macro script(this, kwargs) %}"
        "RuimteMap.layerControl({{ this._parent.get_name() }}, "
        "[{{ this.base_names | join(', ') }}], [{{ this.overlay_names | join(', ') }}], "
        'RuimteMap.data("{{ this.get_name() }}-data"));'
        "{% endmacro %}"
    )

    def __init__(
        self, collapsed: bool = True, position: str = "topright", first: list[str] | None = None
    ):
        super().__init__()
        self._name = "LayerControl"
        self.collapsed, self.position = collapsed, position
        self.group_order = [*(first or []), *GROUP_ORDER]
        self.base_names: list[str] = []
        self.overlay_names: list[str] = []

    def render(self, **kwargs: Any) -> None:
        """Collect the parent map's layers (their JS variable names), then render."""
        layers = [c for c in self._parent._children.values() if isinstance(c, Layer) and c.control]
        bases = [c for c in layers if not c.overlay]
        self.base_names = [c.get_name() for c in bases]
        self.overlay_names = [c.get_name() for c in layers if c.overlay]
        self.set_payload(
            {
                "collapsed": self.collapsed,
                "position": self.position,
                "baseTitles": [c.layer_name for c in bases],
                "groupOrder": self.group_order,
            }
        )
        super().render(**kwargs)


class BasemapNote(JSCSSMixin, folium.MacroElement):
    """A Dutch note on the map when there is no basemap or its tiles fail to load.

    Offline (an intranet) the map then shows the kaartlagen with the province and gemeente
    outlines as context; the note says why the background is empty. The text is part of
    ``ruimte-map.js``; the template names only the map and tile layer variables.
    """

    default_js = RUIMTE_JS
    default_css = RUIMTE_CSS
    _template = Template(
        "{% macro script(this, kwargs) %}"
        "RuimteMap.basemapNote({{ this._parent.get_name() }}, "
        "{{ this.tiles.get_name() if this.tiles else 'null' }});"
        "{% endmacro %}"
    )

    def __init__(self, tiles: folium.TileLayer | None):
        super().__init__()
        self._name = "BasemapNote"
        self.tiles = tiles


class MetricScale(folium.MacroElement):
    """A scale bar in metres and kilometres only (Leaflet's default adds miles)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "MetricScale"


class Title(DataMixin, JSCSSMixin):
    """A title box in the top-left corner of the map."""

    default_js = RUIMTE_JS
    default_css = RUIMTE_CSS
    _template = _data_script("RuimteMap.title({{ this._parent.get_name() }}, ")

    def __init__(self, text: str):
        super().__init__()
        self._name = "Title"
        self.set_payload({"text": text})


class Fullscreen(JSCSSMixin, folium.MacroElement):
    """Full-screen button (local copy of leaflet.fullscreen)."""

    default_js = FULLSCREEN_JS
    default_css = FULLSCREEN_CSS
    _template = Template(
        """
        {% macro script(this, kwargs) %}
            L.control.fullscreen({position: "topleft", title: "Volledig scherm",
                                  titleCancel: "Volledig scherm sluiten"})
                .addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "Fullscreen"


def offline(element: JSCSSMixin) -> JSCSSMixin:
    """Point a folium map's assets at this app instead of CDNs."""
    element.default_js = list(LEAFLET_JS)
    element.default_css = list(LEAFLET_CSS)
    return element


class Page(Figure):
    """The HTML page around one or more maps: Dutch, title escaped, one script with a nonce.

    The Content-Security-Policy allows only scripts from this app and the one inline script
    carrying the request's nonce (``render``), so markup that slipped into a page could not
    run. Data blocks are ``application/json`` and never executed.
    """

    _template = Template(
        "<!DOCTYPE html>\n"
        '<html lang="nl">\n<head>\n<meta charset="utf-8">\n'
        "{% if this.title %}<title>{{ this.title | e }}</title>{% endif %}\n"
        "{{ this.header.render(**kwargs) }}\n"
        "</head>\n<body>\n"
        "{{ this.html.render(**kwargs) }}\n"
        '<script nonce="{{ this.nonce }}">\n{{ this.script.render(**kwargs) }}\n</script>\n'
        "</body>\n</html>\n"
    )
    nonce = ""


class SafeMap(folium.Map):
    """A folium map without folium's inline header script.

    That script only sets Leaflet's ``L_NO_TOUCH`` and ``L_DISABLE_3D`` switches to their
    defaults; leaving it out keeps the page's one nonce'd inline script the only one.
    """

    def render(self, **kwargs: Any) -> None:
        """Render as folium does, then drop the inline script from this map's header."""
        super().render(**kwargs)
        header = self.get_root().header
        name = self.get_name()
        if name in header._children:
            text = header._children[name].render()
            header._children[name] = RawElement(_INLINE_SCRIPT_RE.sub("", text))


_INLINE_SCRIPT_RE = re.compile(r"<script>.*?</script>", re.DOTALL)


def leaflet_map(**options: Any) -> folium.Map:
    """A folium map with Leaflet served by the app, no tiles yet and a metric scale bar."""
    m = offline(SafeMap(location=[52.09, 5.2], zoom_start=10, tiles=None, **options))
    MetricScale().add_to(m)
    return m


def new_map(
    basemap: Basemap | None, bounds: tuple[float, float, float, float] | None, title: str
) -> folium.Map:
    """An empty offline map fitted to ``bounds`` (lon/lat) with basemap, title, scale bar."""
    m = leaflet_map()
    m.add_to(Page(title=title))
    BasemapNote(add_basemap(m, basemap)).add_to(m)
    if bounds:
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    Title(title).add_to(m)
    Fullscreen().add_to(m)
    return m


def add_basemap(m: folium.Map, basemap: Basemap | None) -> folium.TileLayer | None:
    """Add the background map as a base layer (nothing when there is none); the layer."""
    if basemap is None:
        return None
    tiles = folium.TileLayer(
        tiles=basemap.url,
        attr=basemap.attribution,
        name=basemap.name,
        overlay=False,
        control=True,
        max_zoom=19,
    )
    tiles.add_to(m)
    return tiles


def layer_options(
    info: LayerInfo, kind: Kind, style_key: str | None = None, **extra: Any
) -> dict[str, Any]:
    """Options for ``RuimteMap.layer``: labels, value labels, style, API URL."""
    labels = kind.field_labels()
    values = {f.name: dict(f.values) for f in kind.fields.values() if f.values}
    opts: dict[str, Any] = {
        "name": info.name,
        "title": info.title,
        "kind": info.kind,
        "styleKey": style_key or info.kind,
        "labels": labels,
        "values": values,
        "fields": [*kind.fields, *info.extra_fields],
        "tooltipField": TOOLTIP_FIELD.get(info.kind),
        "url": f"/api/layers/{info.name}/features",
        "plainFields": plain_fields(kind, info.extra_fields),
        "dateFields": [n for n, f in kind.fields.items() if f.type == "date"],
        "group": layer_group(info),
        "context": info.kind == "gemeenten",
    }
    opts.update(extra)
    return opts


@dataclass
class EmbedBudget:
    """How many bytes of GeoJSON a page may still embed (the rest is loaded by bbox)."""

    bytes: int

    def take(self, n: int) -> bool:
        """Reserve ``n`` bytes if they fit."""
        if n > self.bytes:
            return False
        self.bytes -= n
        return True


def kaartlaag(
    conn: Connection,
    info: LayerInfo,
    settings: WebSettings,
    *,
    query: FeatureQuery | None = None,
    show: bool = True,
    budget: EmbedBudget | None = None,
    viewer: Viewer = PUBLIC,
    names: dict[str, str] | None = None,
    **options: Any,
) -> RuimteLayer:
    """A map layer for ``info``: embedded when small, else loaded by bbox from the API.

    ``query`` narrows the features (gemeente, bbox in RD, at_least); ``budget`` is the
    page's remaining embedding budget (default: a fresh one from the settings); ``names``
    (statcode → naam) puts gemeente names beside codes in popups; ``options`` go to
    ``RuimteMap.layer`` (e.g. ``title``, ``hmcThreshold``, ``group``).
    """
    kind = load_kinds()[info.kind]
    q = replace(query or FeatureQuery(), out_srid=4326, decimals=6, latlon=False, viewer=viewer)
    # Counted up to the embedding limit only: a large layer's geometries are never all read.
    count, size = feature_stats(conn, info, kind, q, cap=settings.embed_max_features)
    opts = layer_options(info, kind, **options)
    statcodes = [n for n, f in kind.fields.items() if f.type == "statcode"]
    if names and statcodes:
        opts["names"] = names
        opts["statcodeFields"] = statcodes
    params = {**({"gemeente": q.gemeente} if q.gemeente else {}), **q.filters}
    if params:
        opts["url"] += "?" + urlencode(params)
    budget = budget or EmbedBudget(settings.embed_max_bytes)
    if count <= settings.embed_max_features and budget.take(size):
        page = query_features(conn, info, kind, replace(q, limit=max(count, 1)))
        data = '{"type": "FeatureCollection", "features": ' + page.features_json + "}"
        if kind.name in ("constraints", "landgebruik"):
            field = "category" if kind.name == "constraints" else "klasse"
            opts["present"] = sorted(
                {f["properties"].get(field) for f in json.loads(page.features_json)} - {None}
            )
        return RuimteLayer(opts, data, show=show)
    if "minZoom" not in opts:
        many = count_features(conn, info, kind, q, TILE_MIN_ZOOM_ABOVE) is None
        opts["minZoom"] = 11 if many else 0
    if _whole_layer(q):
        # The whole layer: vector tiles, generalised per zoom by PostGIS.
        opts["tiles"] = f"/tiles/{info.name}/{{z}}/{{x}}/{{y}}.mvt"
        opts["geometryType"] = info.geometry_type
        return RuimteLayer(opts, None, show=show)
    opts["limit"] = min(settings.page_max, 2000)
    return RuimteLayer(opts, None, show=show)


def _whole_layer(q: FeatureQuery) -> bool:
    """Whether ``q`` selects the whole current layer (what the tiles serve)."""
    return (
        q.bbox is None and not q.gemeente and not q.filters and not q.at_least and q.version is None
    )


def province_outline(
    conn: Connection, gemeenten: LayerInfo, name: str, viewer: Viewer = PUBLIC
) -> tuple[str | None, tuple[float, float, float, float] | None]:
    """The union of the gemeenten ``viewer`` may see (CRS84 GeoJSON, named ``name``: the work
    area's title) and its lon/lat bounds."""
    geojson, bounds = union_outline(conn, gemeenten, viewer)
    if geojson is None:
        return None, None
    fc = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"naam": name},
                    "geometry": json.loads(geojson),
                }
            ],
        }
    )
    return fc, bounds


def outline_layer(geojson: str) -> RuimteLayer:
    """The work area's outline as a non-toggleable layer (context, also without a basemap)."""
    opts = {
        "name": "provincie",
        "title": "Grens werkgebied",
        "styleKey": "provincie",
        "labels": {"naam": "Naam"},
        "fields": ["naam"],
        "interactive": False,
    }
    return RuimteLayer(opts, geojson, show=True, control=False)


def diverging_classes(values: list[float | None], style_key: str = "balance") -> dict[str, Any]:
    """Legend classes of a diverging style (``styles.yaml`` ``diverging``) from the data.

    Deficits (negative) and surpluses (positive) are classed separately, each into at most
    as many classes as the style has colours, by quantiles of their own values; the last
    class of each side ends at that side's largest value, so no class reaches beyond the
    data. Values within ``balanced_within`` of zero are "in balans". Returns ``{"field",
    "classes"}``: classes in legend order (largest surplus first), each with ``label``,
    ``fill`` and the bounds ``side`` (-1, 0, 1 or None for missing), ``above`` and ``upTo``
    (magnitudes: ``above`` < ``|v|`` ≤ ``upTo``).
    """
    spec = load_styles()[style_key]["diverging"]
    within = float(spec.get("balanced_within", 0.0))
    labels = spec["labels"]
    present = [float(v) for v in values if v is not None]

    def side(sign: int, colours: list[str]) -> list[dict[str, Any]]:
        mags = sorted(abs(v) for v in present if sign * v >= within)
        if not mags:
            return []
        k = min(len(colours), len(set(mags)))
        edges: list[float] = []
        for j in range(1, k + 1):
            edge = mags[max(0, -(-len(mags) * j // k) - 1)]
            edge = edge if j == k else round(edge, 1)  # the last ends at the largest value
            if not edges or edge > edges[-1]:
                edges.append(edge)
        palette = colours if len(edges) == len(colours) else _spread(colours, len(edges))
        out, low = [], within
        template = labels["negative" if sign < 0 else "positive"]
        for edge, colour in zip(edges, palette, strict=True):
            label = template.replace("{from}", getal(low, 1)).replace("{to}", getal(edge, 1))
            out.append({"side": sign, "above": low, "upTo": edge, "fill": colour, "label": label})
            low = edge
        return out

    balanced = {
        "side": 0,
        "above": -1.0,
        "upTo": within,
        "fill": spec["balanced"],
        "label": labels["balanced"].replace("{within}", getal(within, 1)),
    }
    classes = [*reversed(side(1, spec["positive"])), balanced, *side(-1, spec["negative"])]
    if len(present) < len(values):
        classes.append(
            {
                "side": None,
                "above": 0,
                "upTo": 0,
                "fill": spec["missing"],
                "label": labels["missing"],
            }
        )
    return {"field": spec["field"], "classes": classes}


def _spread(colours: list[str], n: int) -> list[str]:
    """``n`` of ``colours`` spread over the list (light to dark): 1 → middle, 2 → ends."""
    if n == 1:
        return [colours[len(colours) // 2]]
    return [colours[round(i * (len(colours) - 1) / (n - 1))] for i in range(n)]


def render(element: folium.Map | Page, nonce: str) -> str:
    """The page holding ``element`` as HTML; its inline script carries ``nonce`` (the CSP's)."""
    page = element.get_root()
    if not isinstance(page, Page):
        raise TypeError("maps are rendered in a Page (new_map or side_by_side)")
    page.nonce = nonce
    return page.render()


class SyncMaps(JSCSSMixin, folium.MacroElement):
    """Keep two maps in step (local copy of Leaflet.Sync)."""

    default_js = SYNC_JS
    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this.m1.get_name() }}.sync({{ this.m2.get_name() }});
            {{ this.m2.get_name() }}.sync({{ this.m1.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, m1: folium.Map, m2: folium.Map):
        super().__init__()
        self._name = "SyncMaps"
        self.m1, self.m2 = m1, m2


def side_by_side(
    basemap: Basemap | None,
    bounds: tuple[float, float, float, float] | None,
    titles: tuple[str, str],
    page_title: str,
) -> tuple[Page, folium.Map, folium.Map]:
    """Two synchronised maps, left and right, in one page."""
    figure = Page(title=page_title)
    maps = []
    for i, title in enumerate(titles):
        m = leaflet_map(
            width="50%", height="100%", left=f"{50 * i}%", top="0%", position="absolute"
        )
        figure.add_child(m)
        BasemapNote(add_basemap(m, basemap)).add_to(m)
        if bounds:
            m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
        Title(title).add_to(m)
        maps.append(m)
    figure.add_child(SyncMaps(maps[0], maps[1]))
    return figure, maps[0], maps[1]
