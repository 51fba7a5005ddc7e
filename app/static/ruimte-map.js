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

  /* Every GeoJSON kaartlaag made on the page (the editor finds its layers here). */
  var REGISTRY = [];

  /* Dutch numbers, as app/nl_format.py getal(): thousands ".", decimals ",". Without
   * `decimals`, integers have none and other numbers up to two (trailing zeros dropped).
   * Years and codes are never passed here (the layer's plainFields, from the same module). */
  function formatNumber(v, decimals) {
    if (v === null || v === undefined || v === "" || !isFinite(v)) { return "–"; }
    var n = Number(v);
    var text = decimals === undefined
      ? (Number.isInteger(n) ? n.toFixed(0) : n.toFixed(2).replace(/0+$/, "").replace(/\.$/, ""))
      : n.toFixed(decimals);
    if (/^-[0.]*$/.test(text)) { text = text.slice(1); }
    var sign = text.charAt(0) === "-" ? "-" : "";
    var parts = text.replace("-", "").split(".");
    var whole = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ".");
    return sign + whole + (parts.length > 1 ? "," + parts[1] : "");
  }

  /* An ISO date (2025-01-31, or a timestamp) as 31-01-2025, as nl_format.datum(). */
  function formatDate(v) {
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(v));
    return m ? m[3] + "-" + m[2] + "-" + m[1] : String(v);
  }

  /* Styles come from layers/data/styles.yaml (the same definitions as the QGIS styles),
   * passed per layer as o.styleDef: a base symbol, optionally classified by a field
   * (classes by value or "at least", or a palette), or diverging classes computed from the
   * data on the server (o.diverging). */
  var DEFAULT_DEF = { symbol: { stroke: "#3949ab", width: 1, fill: "#7986cb", fill_opacity: 0.4, radius: 5 } };

  function threshold(k, o) {
    return parseFloat(k.at_least === "hmc" ? (o.hmcThreshold || "4") : k.at_least);
  }

  /* The diverging class of value v: {side, above, upTo, fill, label}. */
  function divergingClass(d, v) {
    var classes = d.classes || [];
    if (v === null || v === undefined || v === "" || isNaN(v)) {
      return classes.filter(function (k) { return k.side === null; })[0] || null;
    }
    var balanced = classes.filter(function (k) { return k.side === 0; })[0];
    if (balanced && Math.abs(v) < balanced.upTo) { return balanced; }
    var side = v < 0 ? -1 : 1;
    var mine = classes.filter(function (k) { return k.side === side; })
      .sort(function (a, b) { return a.upTo - b.upTo; });
    for (var i = 0; i < mine.length; i++) { if (Math.abs(v) <= mine[i].upTo) { return mine[i]; } }
    return mine.length ? mine[mine.length - 1] : (balanced || null);
  }

  /* Which legend class a feature falls in (a class index or palette key; null: none). */
  function classKey(def, props, o) {
    var c = def.classify;
    if (o.diverging) {
      var k = divergingClass(o.diverging, props[o.diverging.field]);
      return k ? o.diverging.classes.indexOf(k) : null;
    }
    if (c && c.classes) {
      var v = props[c.field];
      for (var i = 0; i < c.classes.length; i++) {
        var cl = c.classes[i];
        var hit = ("at_least" in cl) ? parseFloat(v) >= threshold(cl, o) : ("value" in cl) ? String(v) === String(cl.value) : true;
        if (hit) { return i; }
      }
      return null;
    }
    if (c && c.palette) { return props[c.field] === undefined || props[c.field] === null ? null : String(props[c.field]); }
    return null;
  }

  /* The symbol (style.yaml keys) of one feature. */
  function symbolFor(def, props, o) {
    var s = Object.assign({}, def.symbol || {});
    var c = def.classify, key = classKey(def, props, o);
    if (o.diverging) {
      if (key !== null) { s.fill = o.diverging.classes[key].fill; }
    } else if (c && c.classes) {
      if (key !== null) { Object.assign(s, c.classes[key]); }
    } else if (c && c.palette) {
      var col = c.palette[props[c.field]] || c["default"];
      if (c.fill_only) { s.fill = col; } else { s.stroke = col; s.fill = col; }
    }
    return s;
  }

  /* A style.yaml symbol as Leaflet path options; lines (LineString) are never filled. */
  function leafletStyle(s, geometryType) {
    var line = /LineString/.test(geometryType || "");
    var hasFill = !line && s.fill !== null && s.fill !== undefined;
    return {
      stroke: !!(s.stroke || s.fill), color: s.stroke || s.fill, weight: s.width, opacity: 1,
      dashArray: s.dash ? s.dash.join(" ") : null, fill: hasFill, fillColor: hasFill ? s.fill : null,
      fillOpacity: s.fill_opacity === undefined ? 1 : s.fill_opacity, radius: s.radius || 5,
      lineCap: "round", lineJoin: "round"
    };
  }

  function styleFunction(o) {
    var def = o.styleDef || DEFAULT_DEF;
    return function (f) {
      var geomType = f && f.geometry ? f.geometry.type : null;
      return leafletStyle(symbolFor(def, (f && f.properties) || {}, o), geomType);
    };
  }

  /* Legend entries of a layer: {label, fill, stroke, shape (area|line|point), dash}, only
   * the classes its features have when they are known (`present`: the class keys found). */
  function legendEntries(o, present) {
    var def = o.styleDef || DEFAULT_DEF, c = def.classify, out = [];
    var base = def.symbol || {};
    function add(label, sym, shape) {
      out.push({ label: label, fill: sym.fill, stroke: sym.stroke || sym.fill, shape: shape || "area", dash: sym.dash });
    }
    function has(key) { return !present || present.indexOf(key) >= 0; }
    if (o.diverging) {
      o.diverging.classes.forEach(function (k) { add(k.label, { fill: k.fill, stroke: base.stroke }); });
    } else if (c && c.classes) {
      c.classes.forEach(function (k, i) {
        if (!has(i)) { return; }
        var label = String(k.label).replace("{threshold}", o.hmcThreshold || "4");
        add(label, Object.assign({}, base, k), k.shape);
      });
    } else if (c && c.palette) {
      var vals = (o.values || {})[c.field] || {};
      Object.keys(c.palette).forEach(function (key) {
        if (c.legend && c.legend.indexOf(key) < 0 && !present) { return; }
        if (o.present && o.present.indexOf(key) < 0) { return; }
        if (!has(key)) { return; }
        var label = c.legend_label ? c.legend_label.replace("{value}", key) : (vals[key] || key);
        var col = c.palette[key];
        add(label, c.fill_only ? { fill: col, stroke: base.stroke } : { fill: col, stroke: col }, c.legend_shape);
      });
    } else {
      var lg = def.legend || {};
      add(lg.label || o.title, base, lg.shape);
    }
    return out;
  }

  /* The class keys of the features a layer holds (null when they are not known: tiles). */
  function presentKeys(lyr) {
    var o = lyr.rcOptions;
    if (!o || o.tiles || !lyr.eachLayer || o.diverging) { return null; }
    var def = o.styleDef || DEFAULT_DEF;
    if (!def.classify) { return null; }
    var keys = [];
    lyr.eachLayer(function (f) {
      var k = classKey(def, (f.feature && f.feature.properties) || {}, o);
      if (k !== null && keys.indexOf(k) < 0) { keys.push(k); }
    });
    return keys;
  }

  function formatValue(v, field, o) {
    if (v === null || v === undefined || v === "") { return "–"; }
    if (typeof v === "boolean") { return v ? "ja" : "nee"; }
    if ((o.statcodeFields || []).indexOf(field) >= 0 && o.names && o.names[v]) {
      return o.names[v] + " (" + v + ")";
    }
    if ((o.plainFields || []).indexOf(field) >= 0) { return String(v); }
    if ((o.dateFields || []).indexOf(field) >= 0) { return formatDate(v); }
    if (typeof v === "number") { return formatNumber(v, o.decimals); }
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
    var interactive = o.interactive !== false;
    var layer = L.geoJSON(null, {
      style: styleFn,
      interactive: interactive,
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, styleFn(f)); },
      onEachFeature: function (f, lyr) {
        if (!interactive) { return; }
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

  /* VectorGrid 1.3's canvas tiles call L.DomEvent.fakeStop on a hit, which Leaflet 1.9 no
   * longer has. It kept the map from handling the same click; Leaflet 1.9's canvas renderer
   * marks its canvas (_leaflet_disable_events) so the map ignores it already. */
  if (L.DomEvent && !L.DomEvent.fakeStop) { L.DomEvent.fakeStop = function () {}; }

  /* A large layer as vector tiles (/tiles/{name}/{z}/{x}/{y}.mvt, Leaflet.VectorGrid), drawn
   * with the same styles, with popups on click. Areas and lines are drawn on a canvas per tile:
   * as SVG, the thousands of paths of a large layer's first view (an element, its path data and
   * style attributes each) kept the browser busy for most of a second; points stay SVG
   * elements. Clicks on either open the popup (VectorGrid hit-tests the canvas). */
  function tileLayer(o) {
    var styleFn = styleFunction(o);
    var styles = {};
    styles[o.name] = function (props) { return styleFn({ properties: props }); };
    var points = /Point/.test(o.geometryType || "");
    var pane = points ? "rcTilePoints" : "rcTileAreas";
    var layer = L.vectorGrid.protobuf(o.tiles, {
      rendererFactory: points ? L.svg.tile : L.canvas.tile, vectorTileLayerStyles: styles, interactive: true, pane: pane,
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
          status(map, o, n >= (o.limit || 2000) ? o.title + ": eerste " + formatNumber(n) + " objecten, zoom in voor alles" : "");
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

  /* Keep the layer control (top right) and the legend (bottom right) apart: together they
   * get the height between the control's top and the legend's bottom; what does not fit
   * scrolls inside them. An expanded control gets the room first, the legend keeps at
   * least 40% of it when both are open. */
  function fitControls(map) {
    if (!map || !map._container) { return; }
    var ctl = map._rcLayers, lg = map._rcLegend, gap = 10;
    var ctlBox = ctl && ctl.getContainer(), lgBox = lg && lg.getContainer();
    if (ctl && ctl._section) {
      ctl._section.style.height = "";
      L.DomUtil.removeClass(ctl._section, "leaflet-control-layers-scrollbar");
    }
    if (lg) { lg._rcBody.style.maxHeight = ""; }
    var mapRect = map.getContainer().getBoundingClientRect();
    var corner = map._controlCorners && map._controlCorners.bottomright;
    var top = ctlBox && ctlBox.parentNode ? ctlBox.getBoundingClientRect().top : mapRect.top + gap;
    var bottom = lgBox && lgBox.parentNode ? lgBox.getBoundingClientRect().bottom
      : (corner && corner.children.length ? corner.getBoundingClientRect().top : mapRect.bottom);
    var avail = bottom - top - gap;
    var ctlH = ctlBox ? ctlBox.offsetHeight : 0, lgH = lgBox ? lgBox.offsetHeight : 0;
    if (ctlH + lgH <= avail) { return; }
    var ctlOpen = ctlBox && L.DomUtil.hasClass(ctlBox, "leaflet-control-layers-expanded");
    var lgOpen = lg && lg._rcOpen;
    var ctlTarget = ctlH, lgTarget = lgH;
    if (ctlOpen && lgOpen) {
      lgTarget = Math.min(lgH, Math.max(avail * 0.4, avail - ctlH));
      ctlTarget = avail - lgTarget;
    } else if (ctlOpen) {
      ctlTarget = avail - lgH;
    } else {
      lgTarget = avail - ctlH;
    }
    if (ctlOpen && ctlTarget < ctlH) {
      var chrome = ctlH - ctl._section.offsetHeight;
      L.DomUtil.addClass(ctl._section, "leaflet-control-layers-scrollbar");
      ctl._section.style.height = Math.max(40, ctlTarget - chrome) + "px";
    }
    if (lgOpen && lgTarget < lgH) {
      var chromeL = lgH - lg._rcBody.offsetHeight;
      lg._rcBody.style.maxHeight = Math.max(30, lgTarget - chromeL) + "px";
    }
  }

  function swatch(e) {
    var kind = e.shape === "line" || e.shape === "point" ? e.shape : "area";
    var node = el("span", "rc-swatch rc-" + kind);
    if (kind === "line") {
      node.style.borderTopColor = e.stroke || e.fill;
      if (e.dash) { node.style.borderTopStyle = "dashed"; }
    } else {
      node.style.backgroundColor = e.fill || "transparent";
      node.style.borderColor = e.stroke || e.fill;
    }
    return node;
  }

  /* A legend of the layers on the map, collapsible (a button with "Legenda"). It starts
   * open on a large map (at least 1280×800) or when it takes little room (at most 6% of
   * the map), else closed. */
  function legend(map, opts) {
    var ctl = L.control({ position: "bottomright" });
    var titleText = (opts && opts.title) || "Legenda";
    ctl.onAdd = function () {
      var div = L.DomUtil.create("div", "rc-legend");
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      var head = el("button", "rc-legend-toggle");
      head.type = "button";
      head.appendChild(el("span", "rc-legend-arrow", "▾"));
      head.appendChild(el("span", "rc-legend-title", titleText));
      var body = el("div", "rc-legend-body");
      div.appendChild(head);
      div.appendChild(body);
      ctl._rcHead = head;
      ctl._rcBody = body;
      L.DomEvent.on(head, "click", function (e) { L.DomEvent.stop(e); setOpen(!ctl._rcOpen); });
      return div;
    };
    function setOpen(open) {
      ctl._rcOpen = open;
      ctl._rcBody.hidden = !open;
      ctl._rcHead.setAttribute("aria-expanded", String(open));
      ctl._rcHead.title = open ? "Legenda inklappen" : "Legenda uitklappen";
      ctl._rcHead.firstChild.textContent = open ? "▾" : "▸";
      L.DomUtil[open ? "removeClass" : "addClass"](ctl.getContainer(), "rc-collapsed");
      fitControls(map);
    }
    ctl.setOpen = setOpen;
    ctl.addTo(map);
    map._rcLegend = ctl;
    function update() {
      var body = ctl._rcBody;
      body.textContent = "";
      map.eachLayer(function (lyr) {
        var o = lyr.rcOptions;
        if (!o || o.legend === false) { return; }
        var entries = legendEntries(o, presentKeys(lyr));
        if (!entries.length) { return; }
        // A layer of one symbol is one row; a classified one gets its title above its classes
        // (also when its data has only one of them).
        var def = o.styleDef || DEFAULT_DEF;
        var single = entries.length === 1 && !def.classify && !o.diverging;
        if (!single) { body.appendChild(el("div", "rc-legend-layer", o.title)); }
        entries.forEach(function (e) {
          var row = el("div", "rc-legend-row" + (single ? " rc-legend-single" : ""));
          row.appendChild(swatch(e));
          row.appendChild(el("span", "rc-legend-label", e.label));
          body.appendChild(row);
        });
      });
      if (ctl._rcOpen === undefined) {
        var size = map.getSize();
        body.hidden = false;
        var box = ctl.getContainer();
        setOpen((size.x >= 1280 && size.y >= 800) || box.offsetWidth * box.offsetHeight <= 0.06 * size.x * size.y);
      } else {
        fitControls(map);
      }
    }
    var pending = null;
    function later() { if (pending === null) { pending = window.setTimeout(function () { pending = null; update(); }, 0); } }
    map.on("layeradd layerremove", later);
    map.eachLayer(function (lyr) { if (lyr.rcOptions) { lyr.on("rc:loaded", later); } });
    map.on("resize", function () { fitControls(map); });
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

  /* A note when the map has no basemap, or its tiles do not load (offline, an intranet):
   * the kaartlagen stay, with the province and gemeente outlines as context. */
  var NO_BASEMAP = "Geen achtergrondkaart beschikbaar. De kaart toont de kaartlagen met de provincie- en gemeentegrenzen als houvast.";
  var BASEMAP_FAILED = "De achtergrondkaart kan niet worden geladen (geen verbinding met de kaartdienst). De kaartlagen en de provincie- en gemeentegrenzen blijven zichtbaar.";

  function basemapNote(map, tiles) {
    var ctl = L.control({ position: "bottomleft" });
    ctl.onAdd = function () {
      var div = el("div", "rc-note");
      L.DomEvent.disableClickPropagation(div);
      div.setAttribute("role", "status");
      div.hidden = true;
      return div;
    };
    ctl.addTo(map);
    var shownContext = false;
    var dismissed = false;
    function show(text) {
      if (dismissed) { return; }
      var box = ctl.getContainer();
      box.textContent = "";
      box.appendChild(el("span", "rc-note-text", text));
      var close = el("button", "rc-note-close", "×");
      close.type = "button";
      close.title = "Melding sluiten";
      close.setAttribute("aria-label", "Melding sluiten");
      L.DomEvent.on(close, "click", function (e) { L.DomEvent.stop(e); dismissed = true; hide(); });
      box.appendChild(close);
      box.hidden = false;
      if (!shownContext) {
        shownContext = true;
        // Without a background, the gemeente outlines are the context: switch them on.
        (map._rcContext || []).forEach(function (lyr) { if (!map.hasLayer(lyr)) { map.addLayer(lyr); } });
      }
    }
    function hide() { ctl.getContainer().hidden = true; }
    if (!tiles) {
      map.whenReady(function () { window.setTimeout(function () { show(NO_BASEMAP); }, 0); });
      return ctl;
    }
    var errors = 0, loaded = 0;
    tiles.on("loading", function () { errors = 0; loaded = 0; });
    tiles.on("tileerror", function () { errors += 1; show(BASEMAP_FAILED); });
    tiles.on("tileload", function () { loaded += 1; });
    tiles.on("load", function () { if (loaded > 0 && errors === 0) { hide(); } });
    return ctl;
  }

  /* Leaflet's layer control writes layer names as HTML: this one names them in text nodes,
   * and lists the kaartlagen in groups (o.group: Beleid, Bedrijventerreinen, a scenario run,
   * ...), each collapsible; a group starts open when one of its layers is shown. */
  var TextLayers = L.Control.Layers.extend({
    _addItem: function (obj) {
      var label = L.Control.Layers.prototype._addItem.call(this, { layer: obj.layer, name: "", overlay: obj.overlay });
      var spans = label.getElementsByTagName("span");
      spans[spans.length - 1].textContent = " " + obj.name;
      label._rcGroup = obj.overlay ? ((obj.layer.rcOptions && obj.layer.rcOptions.group) || "Kaartlagen") : null;
      return label;
    },
    _initLayout: function () {
      L.Control.Layers.prototype._initLayout.call(this);
      this._layersLink.title = "Kaartlagen kiezen";
      this._layersLink.setAttribute("aria-label", "Kaartlagen kiezen");
      var self = this;
      L.DomEvent.on(this._container, "keydown", function (e) {
        if (e.key === "Escape" && self.options.collapsed) { self.collapse(); self._layersLink.focus(); }
      });
    },
    _update: function () {
      L.Control.Layers.prototype._update.call(this);
      if (this._container) { groupItems(this); }
      return this;
    },
    _onInputClick: function () {
      L.Control.Layers.prototype._onInputClick.apply(this, arguments);
      countGroups(this);
    },
    expand: function () {
      L.Control.Layers.prototype.expand.call(this);
      fitControls(this._map);
      return this;
    },
    collapse: function () {
      L.Control.Layers.prototype.collapse.call(this);
      fitControls(this._map);
      return this;
    }
  });

  function countGroups(ctl) {
    (ctl._rcGroups || []).forEach(function (g) {
      var on = g.labels.filter(function (label) { return label.getElementsByTagName("input")[0].checked; }).length;
      g.count.textContent = on + "/" + g.labels.length;
    });
  }

  function groupItems(ctl) {
    var list = ctl._overlaysList;
    var labels = Array.prototype.slice.call(list.children);
    var byName = {}, order = [];
    labels.forEach(function (label) {
      var g = label._rcGroup || "Kaartlagen";
      if (!byName[g]) { byName[g] = []; order.push(g); }
      byName[g].push(label);
    });
    var rank = ctl.options.groupOrder || [];
    function pos(name) { var i = rank.indexOf(name); return i < 0 ? rank.length : i; }
    // Scenario runs after the other groups, the newest first.
    function run(name) { var m = /^Scenario run (\d+)/.exec(name); return m ? -parseInt(m[1], 10) : 0; }
    order = order.map(function (name, i) { return [name, i]; })
      .sort(function (a, b) { return pos(a[0]) - pos(b[0]) || run(a[0]) - run(b[0]) || a[1] - b[1]; })
      .map(function (x) { return x[0]; });
    list.textContent = "";
    ctl._rcOpen = ctl._rcOpen || {};
    ctl._rcGroups = [];
    order.forEach(function (name) {
      var members = byName[name];
      var open = Object.prototype.hasOwnProperty.call(ctl._rcOpen, name) ? ctl._rcOpen[name]
        : members.some(function (label) { return label.getElementsByTagName("input")[0].checked; });
      var box = el("div", "rc-layer-group");
      var head = el("button", "rc-group-head");
      head.type = "button";
      var arrow = el("span", "rc-group-arrow", open ? "▾" : "▸");
      var count = el("span", "rc-group-count");
      head.appendChild(arrow);
      head.appendChild(el("span", "rc-group-name", name));
      head.appendChild(count);
      head.setAttribute("aria-expanded", String(open));
      var body = el("div", "rc-group-body");
      body.hidden = !open;
      members.forEach(function (label) { body.appendChild(label); });
      L.DomEvent.on(head, "click", function (e) {
        L.DomEvent.stop(e);
        var now = body.hidden;
        ctl._rcOpen[name] = now;
        body.hidden = !now;
        arrow.textContent = now ? "▾" : "▸";
        head.setAttribute("aria-expanded", String(now));
        fitControls(ctl._map);
      });
      box.appendChild(head);
      box.appendChild(body);
      list.appendChild(box);
      ctl._rcGroups.push({ name: name, labels: members, count: count });
    });
    countGroups(ctl);
  }

  /* The layer control: base maps (titles from the data block) and the kaartlagen (their
   * titles), collapsed to a button unless opts.collapsed is false. */
  function layerControl(map, bases, overlays, opts) {
    var ctl = new TextLayers(null, null, {
      collapsed: opts.collapsed !== false, position: opts.position || "topright", groupOrder: opts.groupOrder
    });
    bases.forEach(function (lyr, i) { ctl.addBaseLayer(lyr, opts.baseTitles[i]); });
    overlays.forEach(function (lyr) { ctl.addOverlay(lyr, (lyr.rcOptions && lyr.rcOptions.title) || ""); });
    map._rcLayers = ctl;
    ctl.addTo(map);
    map._rcContext = overlays.filter(function (lyr) { return lyr.rcOptions && lyr.rcOptions.context; });
    timeSliders(map, overlays);
    return ctl;
  }

  /* A time slider for each set of layers that are one moment each (options timeSet,
   * timeYear, timeLabel; e.g. the cells allocated by each milestone of a phased run): the
   * slider shows the layer of the year chosen and hides the others of its set. */
  function timeSliders(map, overlays) {
    var sets = {};
    overlays.forEach(function (lyr) {
      var o = lyr.rcOptions;
      if (o && o.timeSet && o.timeYear !== undefined) { (sets[o.timeSet] = sets[o.timeSet] || []).push(lyr); }
    });
    Object.keys(sets).forEach(function (name, n) {
      var layers = sets[name].sort(function (a, b) { return a.rcOptions.timeYear - b.rcOptions.timeYear; });
      if (layers.length < 2) { return; }
      var ctl = L.control({ position: "bottomleft" });
      ctl.onAdd = function () {
        var div = L.DomUtil.create("div", "rc-time");
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        var id = "rc-time-" + name.replace(/[^a-z0-9-]/gi, "") + "-" + n;
        var label = el("label", "rc-time-label", layers[0].rcOptions.timeLabel || "Jaar");
        label.htmlFor = id;
        var input = el("input", "rc-time-input");
        input.type = "range";
        input.id = id;
        input.min = "0";
        input.max = String(layers.length - 1);
        input.step = "1";
        var shown = layers.map(function (l) { return map.hasLayer(l); }).lastIndexOf(true);
        input.value = String(shown >= 0 ? shown : layers.length - 1);
        var out = el("output", "rc-time-year");
        out.htmlFor = id;
        var ticks = el("div", "rc-time-ticks");
        layers.forEach(function (l) { ticks.appendChild(el("span", null, String(l.rcOptions.timeYear))); });
        function year() { return String(layers[Number(input.value)].rcOptions.timeYear); }
        function show() {
          var i = Number(input.value);
          layers.forEach(function (l, j) {
            if (j === i && !map.hasLayer(l)) { map.addLayer(l); }
            if (j !== i && map.hasLayer(l)) { map.removeLayer(l); }
          });
          out.textContent = year();
          input.setAttribute("aria-valuetext", year());
        }
        out.textContent = year();
        input.setAttribute("aria-valuetext", year());
        L.DomEvent.on(input, "input change", show);
        div.appendChild(label);
        div.appendChild(out);
        div.appendChild(input);
        div.appendChild(ticks);
        return div;
      };
      ctl.addTo(map);
    });
  }

  window.RuimteMap = {
    layers: REGISTRY, data: data, layer: makeLayer, legend: legend, title: title, layerControl: layerControl,
    basemapNote: basemapNote, formatNumber: formatNumber, fitControls: fitControls,
    symbolFor: symbolFor, leafletStyle: leafletStyle
  };
})();
