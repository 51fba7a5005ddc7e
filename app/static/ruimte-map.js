/*
 * Ruimte Circulair kaartlagen for Leaflet (and Leaflet.VectorGrid for tiled layers).
 *
 * RuimteMap.layer(options) returns an L.GeoJSON layer that holds embedded features
 * (small layers) or loads them by bounding box from the API while it is on the map
 * (large filtered layers), or a vector tile layer (large layers, Leaflet.VectorGrid),
 * so that a page never embeds a large layer whole.
 * Popups show the attributes under their Dutch labels; styles and legend entries come
 * from the layer's style definition (layers/data/styles.yaml, which the QGIS styles of
 * the exported GeoPackages use too).
 *
 * Licence: EUPL-1.2.
 */
(function () {
  "use strict";

  var nf = new Intl.NumberFormat("nl-NL", { maximumFractionDigits: 2 });
  /* Every GeoJSON kaartlaag made on the page (the editor finds its layers here). */
  var REGISTRY = [];

  /* Styles come from layers/data/styles.yaml (the same definitions as the QGIS styles),
   * passed per layer as o.styleDef: a base symbol, optionally classified by a field
   * (classes by value or "at least", or a palette) or coloured along a diverging ramp. */
  var DEFAULT_DEF = { symbol: { stroke: "#3949ab", width: 1, fill: "#7986cb", fill_opacity: 0.4, radius: 5 } };

  function threshold(k, o) {
    return parseFloat(k.at_least === "hmc" ? (o.hmcThreshold || "4") : k.at_least);
  }

  function hexRgb(c) {
    var h = c.replace("#", "");
    if (h.length === 3) { h = h.split("").map(function (x) { return x + x; }).join(""); }
    return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
  }

  /* Colour along a three-stop ramp [negative, zero, positive] for v on a symmetric scale. */
  function rampColour(ramp, v, scale) {
    if (v === null || v === undefined || isNaN(v)) { return ramp.missing || "#bdbdbd"; }
    var t = Math.max(-1, Math.min(1, v / scale));
    var zero = hexRgb(ramp.colours[1]), end = hexRgb(ramp.colours[t < 0 ? 0 : 2]), a = Math.abs(t);
    var rgb = zero.map(function (z, i) { return Math.round(z + (end[i] - z) * a); });
    return "rgb(" + rgb.join(",") + ")";
  }

  /* The symbol (style.yaml keys) of one feature. */
  function symbolFor(def, props, o) {
    var s = Object.assign({}, def.symbol || {});
    var c = def.classify;
    if (c && c.classes) {
      var v = props[c.field];
      for (var i = 0; i < c.classes.length; i++) {
        var k = c.classes[i];
        var hit = ("at_least" in k) ? parseFloat(v) >= threshold(k, o) : ("value" in k) ? String(v) === String(k.value) : true;
        if (hit) { Object.assign(s, k); break; }
      }
    } else if (c && c.palette) {
      var col = c.palette[props[c.field]] || c["default"];
      if (c.fill_only) { s.fill = col; } else { s.stroke = col; s.fill = col; }
    }
    if (def.ramp) { s.fill = rampColour(def.ramp, props[o.valueField || def.ramp.field], o.scale || 50); }
    return s;
  }

  /* A style.yaml symbol as Leaflet path options. */
  function leafletStyle(s) {
    var hasFill = s.fill !== null && s.fill !== undefined;
    return {
      stroke: !!(s.stroke || hasFill), color: s.stroke || s.fill, weight: s.width, opacity: 1,
      dashArray: s.dash ? s.dash.join(" ") : null, fill: hasFill, fillColor: s.fill,
      fillOpacity: s.fill_opacity === undefined ? 1 : s.fill_opacity, radius: s.radius || 5
    };
  }

  function styleFunction(o) {
    var def = o.styleDef || DEFAULT_DEF;
    return function (f) { return leafletStyle(symbolFor(def, (f && f.properties) || {}, o)); };
  }

  /* Diverging red (tekort) – white – green (overschot), as the "balance" style's ramp. */
  function balanceColor(v, scale) {
    return rampColour({ colours: ["#ff0000", "#ffffff", "#009b00"] }, v, scale);
  }

  /* Legend entries: [label, colour, kind (area|line|point)]. */
  function legendEntries(o) {
    var def = o.styleDef || DEFAULT_DEF, c = def.classify, out = [];
    function add(label, colour, shape) { out.push([label, colour, shape || "area"]); }
    var base = def.symbol || {};
    if (c && c.classes) {
      c.classes.forEach(function (k) {
        var label = String(k.label).replace("{threshold}", o.hmcThreshold || "4");
        add(label, k.fill || k.stroke || base.fill || base.stroke, k.shape);
      });
    } else if (c && c.palette) {
      var vals = (o.values || {})[c.field] || {};
      Object.keys(c.palette).forEach(function (key) {
        if (c.legend && c.legend.indexOf(key) < 0) { return; }
        if (o.present && o.present.indexOf(key) < 0) { return; }
        var label = c.legend_label ? c.legend_label.replace("{value}", key) : (vals[key] || key);
        add(label, c.palette[key], c.legend_shape);
      });
    } else if (def.ramp) {
      var sc = o.scale || 50, labels = def.ramp.labels || ["-", "0", "+"];
      [-sc, 0, sc].forEach(function (v, i) { add(labels[i].replace("{scale}", nf.format(sc)), rampColour(def.ramp, v, sc)); });
    } else {
      var lg = def.legend || {};
      add(lg.label || o.title, base.fill || base.stroke, lg.shape);
    }
    return out;
  }

  function formatValue(v, field, o) {
    if (v === null || v === undefined || v === "") { return "–"; }
    if (typeof v === "boolean") { return v ? "ja" : "nee"; }
    if (typeof v === "number") { return nf.format(v); }
    var labels = (o.values || {})[field];
    if (labels && labels[v]) { return labels[v]; }
    return String(v);
  }

  /* DOM helpers: data from the server only ever becomes text nodes, never HTML. */
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  /* The JSON data block of a map element (<script type="application/json" id=...>). */
  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function popupContent(feature, o) {
    var p = feature.properties || {};
    var box = el("div");
    box.appendChild(el("div", "rc-popup-title", o.title));
    var table = el("table", "rc-popup");
    var fields = o.fields || Object.keys(p);
    fields.forEach(function (field) {
      if (!Object.prototype.hasOwnProperty.call(p, field)) { return; }
      var tr = el("tr");
      tr.appendChild(el("th", null, (o.labels || {})[field] || field));
      tr.appendChild(el("td", null, formatValue(p[field], field, o)));
      table.appendChild(tr);
    });
    box.appendChild(table);
    return box;
  }

  /* A kaartlaag from its data block: {options, data}. */
  function makeLayer(payload) {
    var o = payload.options;
    o.data = payload.data;
    if (o.tiles && L.vectorGrid) { return tileLayer(o); }
    var styleFn = styleFunction(o);
    var layer = L.geoJSON(null, {
      style: styleFn,
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, styleFn(f)); },
      onEachFeature: function (f, lyr) {
        lyr.bindPopup(function () { return popupContent(f, o); }, { maxWidth: 360 });
        if (o.tooltipField && f.properties && f.properties[o.tooltipField]) {
          lyr.bindTooltip(function () { return el("span", null, f.properties[o.tooltipField]); }, { sticky: true });
        }
      }
    });
    layer.rcOptions = o;
    REGISTRY.push(layer);
    if (o.data) {
      layer.addData(o.data);
    } else if (o.url) {
      attachLoader(layer, o);
    }
    return layer;
  }

  /* Tiled layers get panes of their own: points above the other overlays (as the
   * vestigingen on their terreinen), areas and lines below them (as land use). */
  var TILE_PANES = { rcTilePoints: 450, rcTileAreas: 350 };

  function ensurePane(map, name) {
    if (!map.getPane(name)) { map.createPane(name).style.zIndex = TILE_PANES[name]; }
  }

  /* A large layer as vector tiles (/tiles/{name}/{z}/{x}/{y}.mvt, Leaflet.VectorGrid), drawn
   * with the same styles, with popups on click. */
  function tileLayer(o) {
    var styleFn = styleFunction(o);
    var styles = {};
    styles[o.name] = function (props) { return styleFn({ properties: props }); };
    var pane = /Point/.test(o.geometryType || "") ? "rcTilePoints" : "rcTileAreas";
    var layer = L.vectorGrid.protobuf(o.tiles, {
      rendererFactory: L.svg.tile, vectorTileLayerStyles: styles, interactive: true, pane: pane,
      maxNativeZoom: 20, minZoom: o.minZoom || 0, getFeatureId: function (f) { return f.id; }
    });
    layer.beforeAdd = function (map) { ensurePane(map, pane); };
    // VectorGrid's points are CircleMarkers without a LatLng; Leaflet 1.9 takes small circle
    // markers for markers and asks their LatLng on click. Without it, it uses the mouse position.
    var createLayer = layer._createLayer;
    layer._createLayer = function (feat, pxPerExtent) {
      var symbol = createLayer.call(this, feat, pxPerExtent);
      if (feat.type === 1) { symbol.getLatLng = null; }
      return symbol;
    };
    layer.on("click", function (e) {
      var props = (e.layer && e.layer.properties) || {};
      L.popup({ maxWidth: 360 }).setLatLng(e.latlng).setContent(popupContent({ properties: props }, o)).openOn(layer._map);
    });
    layer.on("load", function () { layer.fire("rc:loaded", {}); });
    layer.rcOptions = o;
    return layer;
  }

  /* Load features for the visible bbox while the layer is on the map. */
  function attachLoader(layer, o) {
    var controller = null;
    var map = null;
    function reload() {
      if (!map) { return; }
      if (map.getZoom() < (o.minZoom || 0)) {
        layer.clearLayers();
        status(map, o, "zoom in om " + o.title + " te zien");
        return;
      }
      var b = map.getBounds();
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(",");
      var zoom = map.getZoom();
      var simplify = zoom >= 15 ? 0 : Math.round(Math.pow(2, 15 - zoom) * 0.5 * 100) / 100;
      var sep = o.url.indexOf("?") >= 0 ? "&" : "?";
      var url = o.url + sep + "bbox=" + bbox + "&limit=" + (o.limit || 2000) + (simplify ? "&simplify=" + simplify : "");
      if (controller) { controller.abort(); }
      controller = new AbortController();
      fetch(url, { signal: controller.signal, headers: { Accept: "application/geo+json" } })
        .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
        .then(function (fc) {
          layer.clearLayers();
          layer.addData(fc);
          var n = fc.features.length;
          status(map, o, n >= (o.limit || 2000) ? o.title + ": eerste " + nf.format(n) + " objecten, zoom in voor alles" : "");
          layer.fire("rc:loaded", { count: n });
        })
        .catch(function (err) {
          if (err.name !== "AbortError") { status(map, o, o.title + ": laden mislukt (" + err.message + ")"); }
        });
    }
    layer.on("add", function (e) { map = e.target._map; map.on("moveend", reload); reload(); });
    layer.on("remove", function () {
      if (map) { map.off("moveend", reload); status(map, o, ""); }
      if (controller) { controller.abort(); }
      map = null;
    });
  }

  /* One status line per map for messages of dynamic layers. */
  function status(map, o, text) {
    if (!map._rcStatus) {
      var ctl = L.control({ position: "bottomleft" });
      ctl.onAdd = function () { var d = L.DomUtil.create("div", "rc-status"); return d; };
      ctl.addTo(map);
      map._rcStatus = { ctl: ctl, msgs: {} };
    }
    var st = map._rcStatus;
    if (text) { st.msgs[o.name] = text; } else { delete st.msgs[o.name]; }
    var all = Object.keys(st.msgs).map(function (k) { return st.msgs[k]; });
    var box = st.ctl.getContainer();
    box.textContent = "";
    all.forEach(function (msg) { box.appendChild(el("div", null, msg)); });
    box.style.display = all.length ? "block" : "none";
  }

  /* A legend listing the entries of the layers that are on the map. */
  function legend(map, opts) {
    var ctl = L.control({ position: "bottomright" });
    ctl.onAdd = function () {
      var div = L.DomUtil.create("div", "rc-legend");
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    ctl.addTo(map);
    function update() {
      var box = ctl.getContainer();
      box.textContent = "";
      box.appendChild(el("div", "rc-legend-title", (opts && opts.title) || "Legenda"));
      map.eachLayer(function (lyr) {
        var o = lyr.rcOptions;
        if (!o || o.legend === false) { return; }
        box.appendChild(el("div", "rc-legend-layer", o.title));
        legendEntries(o).forEach(function (e) {
          var row = el("div", "rc-legend-row");
          var swatch = el("span", "rc-swatch rc-" + (e[2] === "line" || e[2] === "point" ? e[2] : "area"));
          swatch.style.backgroundColor = e[1];
          swatch.style.borderColor = e[1];
          row.appendChild(swatch);
          row.appendChild(document.createTextNode(e[0]));
          box.appendChild(row);
        });
      });
    }
    map.on("layeradd layerremove", function () { window.setTimeout(update, 0); });
    update();
    return ctl;
  }

  /* The map's title box (top left). */
  function title(map, opts) {
    var ctl = L.control({ position: "topleft" });
    ctl.onAdd = function () { return el("div", "rc-title", opts.text); };
    ctl.addTo(map);
    return ctl;
  }

  /* Leaflet's layer control writes layer names as HTML: this one names them in text nodes. */
  var TextLayers = L.Control.Layers.extend({
    _addItem: function (obj) {
      var label = L.Control.Layers.prototype._addItem.call(this, { layer: obj.layer, name: "", overlay: obj.overlay });
      var spans = label.getElementsByTagName("span");
      spans[spans.length - 1].textContent = " " + obj.name;
      return label;
    }
  });

  /* The layer control: base maps (titles from the data block) and the kaartlagen (their titles). */
  function layerControl(map, bases, overlays, opts) {
    var ctl = new TextLayers(null, null, { collapsed: !!opts.collapsed, position: opts.position || "topright" });
    bases.forEach(function (lyr, i) { ctl.addBaseLayer(lyr, opts.baseTitles[i]); });
    overlays.forEach(function (lyr) { ctl.addOverlay(lyr, (lyr.rcOptions && lyr.rcOptions.title) || ""); });
    ctl.addTo(map);
    return ctl;
  }

  window.RuimteMap = { layers: REGISTRY, data: data, layer: makeLayer, legend: legend, title: title, layerControl: layerControl, balanceColor: balanceColor, symbolFor: symbolFor, leafletStyle: leafletStyle };
})();
