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
from dataclasses import dataclass, replace
from typing import Any

import folium
from branca.element import Figure
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template
from sqlalchemy import Connection

from app.basemap import Basemap
from app.settings import WebSettings
from layers.access import PUBLIC, Viewer
from layers.kinds import Kind, load_kinds
from layers.query import FeatureQuery, feature_stats, query_features, union_outline
from layers.store import LayerInfo
from layers.styles import load_styles

LEAFLET_JS = [("leaflet", "/static/leaflet/leaflet.js")]
LEAFLET_CSS = [("leaflet_css", "/static/leaflet/leaflet.css")]
RUIMTE_JS = [("ruimte_map", "/static/ruimte-map.js")]
RUIMTE_CSS = [("ruimte_map_css", "/static/ruimte-map.css")]
FULLSCREEN_JS = [("fullscreen_js", "/static/vendor/leaflet.fullscreen/Control.FullScreen.js")]
FULLSCREEN_CSS = [("fullscreen_css", "/static/vendor/leaflet.fullscreen/Control.FullScreen.css")]
SYNC_JS = [("leaflet_sync", "/static/vendor/leaflet.sync/L.Map.Sync.js")]
VECTORGRID_JS = [
    ("leaflet_vectorgrid", "/static/vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js")
]
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


class RuimteLayer(JSCSSMixin, Layer):
    """A kaartlaag drawn by ``RuimteMap.layer`` (embedded data, vector tiles or bbox loading)."""

    default_js = VECTORGRID_JS + RUIMTE_JS
    default_css = RUIMTE_CSS
    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = RuimteMap.layer(
                Object.assign({{ this.options_json }}, {data: {{ this.data_json }}})
            );
        {% endmacro %}
        """
    )

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
        self.options_json = json.dumps(options, ensure_ascii=False)
        self.data_json = data_json or "null"


class Legend(JSCSSMixin, folium.MacroElement):
    """A legend of the layers currently on the map."""

    default_js = RUIMTE_JS
    default_css = RUIMTE_CSS
    _template = Template(
        """
        {% macro script(this, kwargs) %}
            RuimteMap.legend({{ this._parent.get_name() }}, {{ this.title|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, title: str = "Legenda"):
        super().__init__()
        self._name = "Legend"
        self.title = title


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


class Title(JSCSSMixin, folium.MacroElement):
    """A title box in the top-left corner of the map."""

    default_css = RUIMTE_CSS
    _template = Template(
        """
        {% macro script(this, kwargs) %}
            (function () {
                var ctl = L.control({position: "topleft"});
                ctl.onAdd = function () {
                    var d = L.DomUtil.create("div", "rc-title");
                    d.textContent = {{ this.text|tojson }};
                    return d;
                };
                ctl.addTo({{ this._parent.get_name() }});
            })();
        {% endmacro %}
        """
    )

    def __init__(self, text: str):
        super().__init__()
        self._name = "Title"
        self.text = text


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


def leaflet_map(**options: Any) -> folium.Map:
    """A folium map with Leaflet served by the app, no tiles yet and a metric scale bar."""
    m = offline(folium.Map(location=[52.09, 5.2], zoom_start=10, tiles=None, **options))
    MetricScale().add_to(m)
    return m


def new_map(
    basemap: Basemap | None, bounds: tuple[float, float, float, float] | None, title: str
) -> folium.Map:
    """An empty offline map fitted to ``bounds`` (lon/lat) with basemap, title, scale bar."""
    m = leaflet_map()
    m.add_to(Figure(title=title))
    add_basemap(m, basemap)
    if bounds:
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    Title(title).add_to(m)
    Fullscreen().add_to(m)
    return m


def add_basemap(m: folium.Map, basemap: Basemap | None) -> None:
    """Add the background map as a base layer (nothing when there is none)."""
    if basemap is not None:
        folium.TileLayer(
            tiles=basemap.url,
            attr=basemap.attribution,
            name=basemap.name,
            overlay=False,
            control=True,
            max_zoom=19,
        ).add_to(m)


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
    **options: Any,
) -> RuimteLayer:
    """A map layer for ``info``: embedded when small, else loaded by bbox from the API.

    ``query`` narrows the features (gemeente, bbox in RD, at_least); ``budget`` is the
    page's remaining embedding budget (default: a fresh one from the settings); ``options``
    go to ``RuimteMap.layer`` (e.g. ``title``, ``hmcThreshold``).
    """
    kind = load_kinds()[info.kind]
    q = replace(query or FeatureQuery(), out_srid=4326, decimals=6, latlon=False, viewer=viewer)
    count, size = feature_stats(conn, info, kind, q)
    opts = layer_options(info, kind, **options)
    if q.gemeente:
        opts["url"] += f"?gemeente={q.gemeente}"
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
    opts.setdefault("minZoom", 11 if count > 20_000 else 0)
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
    conn: Connection, gemeenten: LayerInfo, viewer: Viewer = PUBLIC
) -> tuple[str | None, tuple[float, float, float, float] | None]:
    """The union of the gemeenten ``viewer`` may see (CRS84 GeoJSON) and its lon/lat bounds."""
    geojson, bounds = union_outline(conn, gemeenten, viewer)
    if geojson is None:
        return None, None
    fc = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"naam": "Provincie Utrecht"},
                    "geometry": json.loads(geojson),
                }
            ],
        }
    )
    return fc, bounds


def outline_layer(geojson: str) -> RuimteLayer:
    """The province outline as a non-toggleable layer."""
    opts = {
        "name": "provincie",
        "title": "Provinciegrens",
        "styleKey": "provincie",
        "labels": {"naam": "Naam"},
        "fields": ["naam"],
    }
    return RuimteLayer(opts, geojson, show=True, control=False)


def render(m: folium.Map) -> str:
    """The map as a complete HTML page."""
    return m.get_root().render()


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
) -> tuple[Figure, folium.Map, folium.Map]:
    """Two synchronised maps, left and right, in one page."""
    figure = Figure(title=page_title)
    maps = []
    for i, title in enumerate(titles):
        m = leaflet_map(
            width="50%", height="100%", left=f"{50 * i}%", top="0%", position="absolute"
        )
        figure.add_child(m)
        add_basemap(m, basemap)
        if bounds:
            m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
        Title(title).add_to(m)
        maps.append(m)
    figure.add_child(SyncMaps(maps[0], maps[1]))
    return figure, maps[0], maps[1]
