/* The province's worklist (/beheer): a map of the submitted features, and the adopt/return
 * buttons, which take the workflow action through the features API with a write token of the
 * browser session. Data comes from the page's JSON block and becomes DOM text only.
 * Licence: EUPL-1.2. */
(function () {
  "use strict";
  var node = document.getElementById("beheer-data");
  if (!node) { return; }
  var items = JSON.parse(node.textContent).items;
  var status = document.getElementById("beheer-status");

  function say(text, bad) {
    status.textContent = text;
    status.className = bad ? "status status-rood" : "status status-groen";
  }

  var map = L.map("beheer-map");
  var layer = L.geoJSON({
    type: "FeatureCollection",
    features: items.map(function (it) { return { type: "Feature", geometry: it.geometry, properties: { naam: it.naam || "", fid: it.fid } }; })
  }, { style: { color: "#e65100", weight: 2, fillOpacity: 0.25 } }).addTo(map);
  layer.eachLayer(function (l) {
    l.bindTooltip(function () {
      var span = document.createElement("span");
      span.textContent = l.feature.properties.naam;
      return span;
    });
  });
  var b = layer.getBounds();
  if (b.isValid()) { map.fitBounds(b, { maxZoom: 15, padding: [20, 20] }); } else { map.setView([52.09, 5.2], 9); }

  function writeToken() {
    return fetch("/api/session/write-token", { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error("log opnieuw in (" + r.status + ")"); }
      return r.json();
    }).then(function (doc) { return doc.token; });
  }

  function act(row, action) {
    var url = "/api/layers/" + encodeURIComponent(row.dataset.layer) + "/features/" + row.dataset.fid;
    var reason = row.querySelector(".reason").value.trim();
    if (action === "terugsturen" && !reason) { say("Geef een reden om terug te sturen.", true); row.querySelector(".reason").focus(); return; }
    writeToken().then(function (token) {
      var auth = { Authorization: "Bearer " + token };
      return fetch(url, { headers: auth }).then(function (r) {
        if (!r.ok) { throw new Error("object niet gevonden (" + r.status + ")"); }
        return fetch(url + "/workflow", {
          method: "POST",
          headers: Object.assign({ "Content-Type": "application/json", "If-Match": r.headers.get("ETag") }, auth),
          body: JSON.stringify(action === "terugsturen" ? { action: action, reason: reason } : { action: action })
        });
      });
    }).then(function (r) {
      if (r.ok) {
        say(action === "vaststellen" ? "Vastgesteld: het object is nu openbaar." : "Teruggestuurd naar de gemeente.", false);
        row.parentNode.removeChild(row);
        return;
      }
      return r.json().then(function (p) { say("Niet gelukt: " + (p.detail || r.status), true); });
    }).catch(function (err) { say("Niet gelukt: " + err.message, true); });
  }

  document.querySelectorAll("#werklijst tbody tr").forEach(function (row) {
    row.querySelectorAll("button[data-action]").forEach(function (btn) {
      btn.addEventListener("click", function () { act(row, btn.dataset.action); });
    });
  });
})();
