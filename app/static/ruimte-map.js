/*
 * Ruimte Circulair kaartlagen for Leaflet (no other dependencies).
 *
 * RuimteMap.layer(options) returns an L.GeoJSON layer that either holds embedded
 * features (small layers) or loads them by bounding box from the API while it is on
 * the map (large layers), so that a page never embeds a large layer whole.
 * Popups show the attributes under their Dutch labels; styles and legend entries come
 * from the layer's style key (its kind, or a scenario style).
 *
 * Licence: EUPL-1.2.
 */
(function () {
  "use strict";

  var nf = new Intl.NumberFormat("nl-NL", { maximumFractionDigits: 2 });

  var PALETTE = {
    landgebruik: {
      verkeer: "#9e9e9e", woonterrein: "#e8a33d", bedrijventerrein: "#b04a9e",
      detailhandel_horeca: "#e05a5a", voorzieningen: "#c98bd1", semi_bebouwd: "#d8c27a",
      recreatie: "#8fd17a", agrarisch: "#e6efb0", bos_natuur: "#3f8f3f", water: "#6fa8dc"
    },
    constraints: {
      natuur: "#2e7d32", water: "#1e88e5", woongebied: "#f9a825", woningbouwplan: "#ff7043",
      geluid: "#8d6e63", externe_veiligheid: "#d32f2f", cultuurhistorie: "#6d4c41", overig: "#757575"
    },
    hoofdstructuur: { knooppunt: "#0d47a1", verbinding: "#1565c0", deelgebied: "#64b5f6" },
    reserveringen: { hard: "#1b5e20", zacht: "#66bb6a" },
    milieucategorie: {
      "1": "#fff5eb", "2": "#fee6ce", "3": "#fdae6b", "3.1": "#fdd0a2", "3.2": "#fdae6b",
      "4": "#f16913", "4.1": "#fd8d3c", "4.2": "#f16913", "5": "#a63603", "5.1": "#d94801",
      "5.2": "#a63603", "5.3": "#7f2704", "6": "#3b0f04"
    }
  };

  function hmc(cat, threshold) {
    return parseFloat(cat) >= parseFloat(threshold || "4");
  }

  /* Style per style key: returns a Leaflet path style for a feature. */
  var STYLES = {
    provincie: function () {
      return { color: "#000000", weight: 2.5, fill: false };
    },
    gemeenten: function () {
      return { color: "#455a64", weight: 1.5, fill: false, dashArray: "4 3" };
    },
    bedrijventerreinen: function (f, o) {
      var h = hmc(f.properties.max_milieucategorie, o.hmcThreshold);
      return { color: h ? "#7f0000" : "#e65100", weight: 1, fillColor: h ? "#c62828" : "#ffb74d", fillOpacity: 0.6 };
    },
    strategische_locaties: function () {
      return { color: "#4a148c", weight: 2, fillColor: "#9c27b0", fillOpacity: 0.5, radius: 7 };
    },
    reserveringen: function (f) {
      var hard = f.properties.status === "hard";
      return { color: PALETTE.reserveringen[hard ? "hard" : "zacht"], weight: 2, dashArray: hard ? null : "6 4",
               fillColor: PALETTE.reserveringen[hard ? "hard" : "zacht"], fillOpacity: hard ? 0.45 : 0.25 };
    },
    hoofdstructuur: function (f) {
      var c = PALETTE.hoofdstructuur[f.properties.element] || "#1565c0";
      var area = f.properties.element === "deelgebied";
      return { color: c, weight: area ? 1 : 4, fillColor: c, fillOpacity: area ? 0.15 : 0.8, radius: 8 };
    },
    constraints: function (f) {
      var c = PALETTE.constraints[f.properties.category] || "#757575";
      return { color: c, weight: 1, fillColor: c, fillOpacity: 0.35 };
    },
    landgebruik: function (f) {
      var c = PALETTE.landgebruik[f.properties.klasse] || "#bdbdbd";
      return { color: c, weight: 0.3, fillColor: c, fillOpacity: 0.55 };
    },
    vestigingen: function (f) {
      var c = PALETTE.milieucategorie[f.properties.milieucategorie] || "#999";
      return { color: "#333", weight: 0.5, fillColor: c, fillOpacity: 0.9, radius: 3 };
    },
    allocatie: function () {
      return { color: "#006064", weight: 1, fillColor: "#00bcd4", fillOpacity: 0.7 };
    },
    milieuzones: function () {
      return { color: "#bf360c", weight: 1, dashArray: "3 3", fillColor: "#ff8a65", fillOpacity: 0.12 };
    },
    conflicten: function () {
      return { color: "#b71c1c", weight: 2, fillColor: "#ff1744", fillOpacity: 0.55 };
    },
    balance: function (f, o) {
      return { color: "#37474f", weight: 1, fillColor: balanceColor(f.properties[o.valueField || "balance_ha"], o.scale || 50), fillOpacity: 0.7 };
    },
    default: function () {
      return { color: "#3949ab", weight: 1, fillColor: "#7986cb", fillOpacity: 0.4, radius: 5 };
    }
  };

  /* Diverging red (tekort) – white – green (overschot) on a symmetric scale. */
  function balanceColor(v, scale) {
    if (v === null || v === undefined || isNaN(v)) { return "#bdbdbd"; }
    var t = Math.max(-1, Math.min(1, v / scale));
    var r, g, b;
    if (t < 0) { r = 255; g = Math.round(255 * (1 + t)); b = Math.round(255 * (1 + t)); }
    else { r = Math.round(255 * (1 - t)); g = Math.round(255 - 100 * t); b = Math.round(255 * (1 - t)); }
    return "rgb(" + r + "," + g + "," + b + ")";
  }

  /* Legend entries per style key: [label, colour, kind (area|line|point)]. */
  function legendEntries(o) {
    var k = o.styleKey, out = [];
    function add(label, colour, shape) { out.push([label, colour, shape || "area"]); }
    var vals = o.values || {};
    if (k === "bedrijventerreinen") {
      add("Hoge milieucategorie (≥ " + (o.hmcThreshold || "4") + ")", "#c62828");
      add("Lagere milieucategorie", "#ffb74d");
    } else if (k === "reserveringen") {
      add("Hard (vastgesteld plan)", PALETTE.reserveringen.hard);
      add("Zacht (visie)", PALETTE.reserveringen.zacht);
    } else if (k === "hoofdstructuur") {
      add("Knooppunt", PALETTE.hoofdstructuur.knooppunt, "point");
      add("Verbinding (keten)", PALETTE.hoofdstructuur.verbinding, "line");
      add("Circulair deelgebied", PALETTE.hoofdstructuur.deelgebied);
    } else if (k === "constraints" || k === "landgebruik") {
      var pal = PALETTE[k], field = k === "constraints" ? "category" : "klasse";
      Object.keys(pal).forEach(function (key) {
        if (!o.present || o.present.indexOf(key) >= 0) {
          add((vals[field] && vals[field][key]) || key, pal[key]);
        }
      });
    } else if (k === "vestigingen") {
      ["2", "3.2", "4.2", "5.3"].forEach(function (c) { add("Milieucategorie " + c, PALETTE.milieucategorie[c], "point"); });
    } else if (k === "balance") {
      var s = o.scale || 50;
      add("Tekort ≥ " + nf.format(s) + " ha", balanceColor(-s, s));
      add("In balans", balanceColor(0, s));
      add("Overschot ≥ " + nf.format(s) + " ha", balanceColor(s, s));
    } else if (k === "provincie") {
      add("Provinciegrens", "#000000", "line");
    } else if (k === "gemeenten") {
      add("Gemeentegrens", "#455a64", "line");
    } else {
      var st = (STYLES[k] || STYLES["default"])({ properties: {} }, o);
      add(o.title, st.fillColor || st.color);
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

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function popupHtml(feature, o) {
    var p = feature.properties || {};
    var rows = [];
    var fields = o.fields || Object.keys(p);
    fields.forEach(function (field) {
      if (!(field in p)) { return; }
      var label = (o.labels || {})[field] || field;
      rows.push("<tr><th>" + escapeHtml(label) + "</th><td>" + escapeHtml(formatValue(p[field], field, o)) + "</td></tr>");
    });
    var head = "<div class=\"rc-popup-title\">" + escapeHtml(o.title) + "</div>";
    return head + "<table class=\"rc-popup\">" + rows.join("") + "</table>";
  }

  function makeLayer(o) {
    var styleFn = STYLES[o.styleKey] || STYLES["default"];
    var layer = L.geoJSON(null, {
      style: function (f) { return styleFn(f, o); },
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, styleFn(f, o)); },
      onEachFeature: function (f, lyr) {
        lyr.bindPopup(function () { return popupHtml(f, o); }, { maxWidth: 360 });
        if (o.tooltipField && f.properties && f.properties[o.tooltipField]) {
          lyr.bindTooltip(String(f.properties[o.tooltipField]), { sticky: true });
        }
      }
    });
    layer.rcOptions = o;
    if (o.data) {
      layer.addData(o.data);
    } else if (o.url) {
      attachLoader(layer, o);
    }
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
    var el = st.ctl.getContainer();
    el.innerHTML = all.map(escapeHtml).join("<br>");
    el.style.display = all.length ? "block" : "none";
  }

  /* A legend listing the entries of the layers that are on the map. */
  function legend(map, title) {
    var ctl = L.control({ position: "bottomright" });
    ctl.onAdd = function () {
      var div = L.DomUtil.create("div", "rc-legend");
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    ctl.addTo(map);
    function update() {
      var html = "<div class=\"rc-legend-title\">" + escapeHtml(title || "Legenda") + "</div>";
      map.eachLayer(function (lyr) {
        var o = lyr.rcOptions;
        if (!o || o.legend === false) { return; }
        html += "<div class=\"rc-legend-layer\">" + escapeHtml(o.title) + "</div>";
        legendEntries(o).forEach(function (e) {
          html += "<div class=\"rc-legend-row\"><span class=\"rc-swatch rc-" + e[2] + "\" style=\"background:" + e[1] + ";border-color:" + e[1] + "\"></span>" + escapeHtml(e[0]) + "</div>";
        });
      });
      ctl.getContainer().innerHTML = html;
    }
    map.on("layeradd layerremove", function () { window.setTimeout(update, 0); });
    update();
    return ctl;
  }

  window.RuimteMap = { layer: makeLayer, legend: legend, balanceColor: balanceColor, styles: STYLES };
})();
