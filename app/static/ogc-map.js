/* The small map on the OGC API HTML pages: draws the features of the page's JSON data block.
 * Licence: EUPL-1.2. */
(function () {
  "use strict";
  var node = document.getElementById("ogc-map-data");
  if (!node) { return; }
  var map = L.map("ogc-map");
  var layer = L.geoJSON(JSON.parse(node.textContent), {
    style: { color: "#01689b", weight: 2, fillOpacity: 0.25 },
    pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 5 }); }
  }).addTo(map);
  var b = layer.getBounds();
  if (b.isValid()) { map.fitBounds(b, { maxZoom: 15 }); } else { map.setView([52.09, 5.2], 9); }
})();
