/*
 * Ruimte Circulair: editing reserveringen and strategische locaties in the browser.
 *
 * RuimteEdit.attach(map, cfg) adds Leaflet-Geoman's drawing tools and a side panel with an
 * attribute form generated from the layer's kind (cfg.layers[].fields, from kinds.yaml). Every
 * write goes through the features API with a short-lived write token of the browser session
 * (/api/session/write-token), so the server checks it exactly like any API write; its
 * problem+json errors are shown at the field they concern, or on the map. A 412 (someone else
 * changed the feature) shows the other version beside the user's, which stays in the form.
 * Everything from the server becomes DOM text, never HTML.
 *
 * Licence: EUPL-1.2.
 */
(function () {
  "use strict";

  var CHANGE_NL = {
    import: "geïmporteerd", create: "aangemaakt", update: "gewijzigd", delete: "verwijderd",
    restore: "hersteld", indienen: "ingediend", vaststellen: "vastgesteld", terugsturen: "teruggestuurd"
  };
  var dateTime = new Intl.DateTimeFormat("nl-NL", { dateStyle: "medium", timeStyle: "short" });

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  /* -- the API, with a write token of the session ------------------------------------------ */
  var token = null, tokenAt = 0;

  function writeToken() {
    if (token && Date.now() - tokenAt < 5 * 60 * 1000) { return Promise.resolve(token); }
    return fetch("/api/session/write-token", { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error("u bent niet (meer) ingelogd: log opnieuw in"); }
      return r.json();
    }).then(function (doc) { token = doc.token; tokenAt = Date.now(); return token; });
  }

  function api(method, url, body, etag) {
    return writeToken().then(function (t) {
      var headers = { Authorization: "Bearer " + t, Accept: "application/json" };
      if (body !== undefined) { headers["Content-Type"] = "application/json"; }
      if (etag) { headers["If-Match"] = etag; }
      return fetch(url, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) });
    }).then(function (r) {
      return r.text().then(function (text) {
        var doc = null;
        try { doc = text ? JSON.parse(text) : null; } catch (e) { doc = null; }
        return { status: r.status, ok: r.ok, doc: doc, etag: r.headers.get("ETag") };
      });
    });
  }

  function featureUrl(layer, fid) {
    return "/api/layers/" + encodeURIComponent(layer.name) + "/features" + (fid ? "/" + fid : "");
  }

  /* -- the panel ----------------------------------------------------------------------------- */
  function attach(map, cfg) {
    var byName = {};
    cfg.layers.forEach(function (c) { byName[c.name] = c; });
    var panel = el("aside", "rc-edit");
    panel.setAttribute("aria-label", "Bewerken");
    L.DomEvent.disableClickPropagation(panel);
    L.DomEvent.disableScrollPropagation(panel);
    map.getContainer().appendChild(panel);

    var head = el("div", "rc-edit-head");
    head.appendChild(el("h2", null, "Bewerken – " + cfg.gemeenteNaam));
    head.appendChild(el("div", "rc-edit-user", "Ingelogd als " + cfg.user));
    panel.appendChild(head);

    var chooser = el("div", "rc-edit-row");
    var chooseLabel = el("label", null, "Nieuw object in ");
    chooseLabel.htmlFor = "rc-edit-layer";
    var choose = el("select");
    choose.id = "rc-edit-layer";
    cfg.layers.forEach(function (c) { var o = el("option", null, c.title); o.value = c.name; choose.appendChild(o); });
    chooser.appendChild(chooseLabel);
    chooser.appendChild(choose);
    panel.appendChild(chooser);
    panel.appendChild(el("p", "rc-edit-hint", "Teken een vlak met de knoppen links, of klik op een object om het te bewerken."));

    var message = el("div", "rc-edit-message");
    message.setAttribute("role", "status");
    message.setAttribute("aria-live", "polite");
    panel.appendChild(message);
    var body = el("div", "rc-edit-body");
    panel.appendChild(body);

    function say(text, kind) {
      message.textContent = text || "";
      message.className = "rc-edit-message" + (kind ? " rc-" + kind : "");
    }

    var current = null;   // {layer: cfg, leaflet: feature layer, fid, etag, doc, base}
    var ghost = L.layerGroup().addTo(map);  // other versions (conflict, history)

    /* The kaartlagen on the map that are editable: clicking a feature selects it. */
    function editableLayers() {
      return (window.RuimteMap.layers || []).filter(function (l) {
        return l.rcOptions && byName[l.rcOptions.name] && l._map === map;
      });
    }
    function targetLayer(name) {
      return editableLayers().filter(function (l) { return l.rcOptions.name === name; })[0] || null;
    }
    (window.RuimteMap.layers || []).forEach(function (l) {
      if (!l.rcOptions || !byName[l.rcOptions.name]) { return; }
      l.on("click", function (e) {
        var f = e.propagatedFrom || e.layer;
        if (f && f.feature) { map.closePopup(); select(byName[l.rcOptions.name], f); }
      });
    });

    /* -- drawing ------------------------------------------------------------------------- */
    var points = cfg.layers.some(function (c) { return c.geometry === "point"; });
    if (map.pm) {
      map.pm.setLang("nl");
      map.pm.addControls({
        position: "topleft", drawMarker: points, drawCircleMarker: false, drawPolyline: false,
        drawRectangle: true, drawPolygon: true, drawCircle: false, drawText: false, editMode: false,
        dragMode: false, cutPolygon: false, removalMode: false, rotateMode: false
      });
      map.pm.setGlobalOptions({ snappable: true, snapDistance: 15, allowSelfIntersection: false });
      map.on("pm:create", function (e) {
        var c = byName[choose.value];
        var props = {};
        if (c.gemeenteField) { props[c.gemeenteField] = cfg.gemeente; }
        e.layer.feature = { type: "Feature", properties: props, geometry: null };
        select(c, e.layer, true);
      });
    }

    function deselect() {
      if (current && current.leaflet && current.leaflet.pm) { current.leaflet.pm.disable(); }
      if (current && current.isNew && !current.saved) { map.removeLayer(current.leaflet); }
      current = null;
      ghost.clearLayers();
      body.textContent = "";
    }

    function select(c, leaflet, isNew) {
      if (current && current.leaflet === leaflet) { return; }
      deselect();
      say("");
      current = { layer: c, leaflet: leaflet, isNew: !!isNew, fid: isNew ? null : leaflet.feature.id, etag: null, doc: null };
      if (leaflet.pm) { leaflet.pm.enable({ snappable: true, allowSelfIntersection: false }); }
      if (isNew) { renderForm(leaflet.feature.properties, null); return; }
      api("GET", featureUrl(c, current.fid)).then(function (res) {
        if (!res.ok) { say("Object niet te lezen (" + res.status + ")", "error"); return; }
        current.etag = res.etag;
        current.doc = res.doc;
        current.base = JSON.parse(JSON.stringify(res.doc.geometry));
        renderForm(res.doc.properties || {}, res.doc);
      }).catch(function (err) { say(err.message, "error"); });
    }

    /* -- the attribute form from the kind ------------------------------------------------ */
    function input(field, value) {
      var id = "rc-f-" + field.name, node;
      if (field.type === "enum") {
        node = el("select");
        var empty = el("option", null, field.required ? "– kies –" : "(geen)");
        empty.value = "";
        node.appendChild(empty);
        Object.keys(field.values || {}).forEach(function (k) {
          var o = el("option", null, field.values[k]);
          o.value = k;
          node.appendChild(o);
        });
        node.value = value === null || value === undefined ? "" : String(value);
      } else if (field.type === "boolean") {
        node = el("input");
        node.type = "checkbox";
        node.checked = value === true;
      } else {
        node = el("input");
        node.type = field.type === "date" ? "date" : (field.type === "integer" || field.type === "number") ? "number" : "text";
        if (field.type === "integer") { node.step = "1"; }
        if (field.type === "number") { node.step = "any"; }
        if (field.min !== null && field.min !== undefined) { node.min = String(field.min); }
        if (field.max !== null && field.max !== undefined) { node.max = String(field.max); }
        if (field.maxLength) { node.maxLength = field.maxLength; }
        node.value = value === null || value === undefined ? "" : String(value);
      }
      node.id = id;
      node.name = field.name;
      if (field.required) { node.required = true; node.setAttribute("aria-required", "true"); }
      if (field.type === "statcode" && cfg.role === "gemeente-editor") { node.readOnly = true; }
      return node;
    }

    function renderForm(props, doc) {
      body.textContent = "";
      var c = current.layer;
      var title = el("h3", null, (current.isNew ? "Nieuw object in " : "") + c.title + (current.fid ? " – object " + current.fid : ""));
      body.appendChild(title);
      if (doc) {
        var state = doc.workflow || "vastgesteld";
        body.appendChild(el("p", "rc-edit-state", "Status: " + (cfg.states[state] || state)));
        if (doc.workflow_reason) { body.appendChild(el("p", "rc-edit-reason", "Reden van de provincie: " + doc.workflow_reason)); }
        if (doc.proposal_for) { body.appendChild(el("p", "rc-edit-state", "Voorstel tot wijziging van object " + doc.proposal_for)); }
      }
      var form = el("form", "rc-edit-form");
      form.noValidate = true;
      c.fields.forEach(function (field) {
        var row = el("div", "rc-edit-field");
        var label = el("label", null, field.label + (field.required ? " *" : ""));
        label.htmlFor = "rc-f-" + field.name;
        row.appendChild(label);
        var node = input(field, props[field.name]);
        row.appendChild(node);
        if (field.help) {
          var help = el("small", "rc-edit-help", field.help);
          help.id = "rc-h-" + field.name;
          node.setAttribute("aria-describedby", help.id);
          row.appendChild(help);
        }
        var err = el("div", "rc-edit-error");
        err.id = "rc-e-" + field.name;
        err.setAttribute("role", "alert");
        row.appendChild(err);
        form.appendChild(row);
      });
      var geomErr = el("div", "rc-edit-error");
      geomErr.id = "rc-e-geometry";
      geomErr.setAttribute("role", "alert");
      form.appendChild(geomErr);
      var buttons = el("div", "rc-edit-buttons");
      function button(text, cls, fn) {
        var b = el("button", cls, text);
        b.type = "button";
        b.addEventListener("click", fn);
        buttons.appendChild(b);
        return b;
      }
      button("Opslaan als concept", "rc-save", function () { save(true); });
      if (cfg.role !== "gemeente-editor") { button("Opslaan en vaststellen", "rc-save-adopt", function () { save(false); }); }
      var state = doc ? (doc.workflow || "vastgesteld") : null;
      var submit = cfg.actions.indienen;
      if (doc && submit && submit.from.indexOf(state) >= 0 && submit.roles.indexOf(cfg.role) >= 0) {
        button(submit.label, "rc-submit", function () { workflow("indienen"); });
      }
      if (doc) {
        button("Geschiedenis", "rc-history", showHistory);
        var del = button("Verwijderen", "rc-delete", function () {
          if (del.dataset.sure !== "1") { del.dataset.sure = "1"; del.textContent = "Zeker weten? Klik nogmaals"; return; }
          remove();
        });
      }
      button("Sluiten", "rc-close", function () { revertGeometry(); deselect(); });
      form.appendChild(buttons);
      form.addEventListener("submit", function (e) { e.preventDefault(); save(true); });
      body.appendChild(form);
      var extra = el("div", "rc-edit-extra");
      body.appendChild(extra);
      var first = form.querySelector("input:not([readonly]), select");
      if (first) { first.focus(); }
    }

    function formValues() {
      var props = {};
      current.layer.fields.forEach(function (field) {
        var node = document.getElementById("rc-f-" + field.name);
        if (!node) { return; }
        var v;
        if (field.type === "boolean") { v = node.checked; }
        else if (node.value === "") { v = null; }
        else if (field.type === "integer") { v = parseInt(node.value, 10); }
        else if (field.type === "number") { v = parseFloat(node.value); }
        else { v = node.value; }
        if (v !== null) { props[field.name] = v; }
      });
      return props;
    }

    function clearErrors() {
      body.querySelectorAll(".rc-edit-error").forEach(function (n) { n.textContent = ""; });
      body.querySelectorAll("[aria-invalid]").forEach(function (n) { n.removeAttribute("aria-invalid"); });
    }

    /* problem+json: every entry of `errors` at its field, the rest in the message line. */
    function showProblem(res) {
      var p = res.doc || {};
      var general = [];
      (p.errors || []).forEach(function (e) {
        var field = e.field || (e.loc && e.loc[e.loc.length - 1]);
        var box = field ? document.getElementById("rc-e-" + field) : null;
        if (box) {
          var node = document.getElementById("rc-f-" + field);
          var empty = node && node.required && !node.value;
          var text = (empty && !box.textContent ? "Dit veld is verplicht. " : "") + e.message;
          box.textContent = (box.textContent ? box.textContent + " " : "") + text;
          if (node) { node.setAttribute("aria-invalid", "true"); }
        } else {
          general.push(e.message);
        }
      });
      say("Niet opgeslagen: " + (p.detail || ("fout " + res.status)) + (general.length ? " – " + general.join("; ") : ""), "error");
    }

    function geometry() {
      return current.leaflet.toGeoJSON().geometry;
    }

    function revertGeometry() {
      if (current && current.base && current.leaflet.setLatLngs) {
        var fresh = L.GeoJSON.geometryToLayer({ type: "Feature", geometry: current.base });
        if (fresh.getLatLngs) { current.leaflet.setLatLngs(fresh.getLatLngs()); }
      }
    }

    function save(draft) {
      clearErrors();
      var doc = { type: "Feature", geometry: geometry(), properties: formValues() };
      if (cfg.role !== "gemeente-editor") { doc.draft = draft; }
      else { doc.draft = true; }
      var c = current.layer, isNew = current.isNew && !current.saved;
      say("Bezig met opslaan…");
      var req = isNew ? api("POST", featureUrl(c), doc) : api("PUT", featureUrl(c, current.fid), doc, current.etag);
      req.then(function (res) {
        if (res.status === 412) { conflict(doc); return; }
        if (!res.ok) { showProblem(res); return; }
        var fid = res.doc.id;
        var proposal = !isNew && res.status === 201;
        if (proposal) { revertGeometry(); }
        return refresh(c, fid, isNew || proposal).then(function () {
          say(proposal ? "Opgeslagen als voorstel (concept): de vastgestelde versie blijft zichtbaar tot de provincie uw wijziging vaststelt."
            : draft ? "Opgeslagen als concept: alleen uw gemeente en de provincie zien het." : "Opgeslagen en vastgesteld.", "ok");
        });
      }).catch(function (err) { say(err.message, "error"); });
    }

    /* After a write: the feature from the server replaces what the map holds, selected. */
    function refresh(c, fid, added) {
      return api("GET", featureUrl(c, fid)).then(function (res) {
        if (!res.ok) { throw new Error("het opgeslagen object is niet te lezen (" + res.status + ")"); }
        var target = targetLayer(c.name);
        var drawn = current.leaflet;
        if (added && current.isNew) { current.saved = true; map.removeLayer(drawn); }
        if (current.leaflet.pm) { current.leaflet.pm.disable(); }
        current = null;
        var node = null;
        if (target) {
          if (!added) {
            target.eachLayer(function (l) { if (l.feature && String(l.feature.id) === String(fid)) { target.removeLayer(l); } });
          }
          target.addData(res.doc);
          target.eachLayer(function (l) { if (l.feature && String(l.feature.id) === String(fid)) { node = l; } });
        }
        if (node) { select(c, node); }
      });
    }

    function workflow(action, reason) {
      api("POST", featureUrl(current.layer, current.fid) + "/workflow", reason ? { action: action, reason: reason } : { action: action }, current.etag)
        .then(function (res) {
          if (res.status === 412) { conflict(null); return; }
          if (!res.ok) { showProblem(res); return; }
          return refresh(current.layer, res.doc.id, false).then(function () { say("Ingediend bij de provincie.", "ok"); });
        }).catch(function (err) { say(err.message, "error"); });
    }

    function remove() {
      var c = current.layer, fid = current.fid;
      api("DELETE", featureUrl(c, fid), undefined, current.etag).then(function (res) {
        if (res.status === 412) { conflict(null); return; }
        if (!res.ok) { showProblem(res); return; }
        var target = targetLayer(c.name);
        if (target) { target.removeLayer(current.leaflet); }
        current = null;
        body.textContent = "";
        say("Object " + fid + " verwijderd (het blijft in de geschiedenis).", "ok");
      }).catch(function (err) { say(err.message, "error"); });
    }

    /* 412: someone else changed the feature. Theirs is shown beside the user's version, which
     * stays in the form and on the map; the user chooses. */
    function conflict(mine) {
      var c = current.layer;
      api("GET", featureUrl(c, current.fid)).then(function (res) {
        var extra = body.querySelector(".rc-edit-extra");
        extra.textContent = "";
        var box = el("div", "rc-edit-conflict");
        box.setAttribute("role", "alert");
        box.appendChild(el("strong", null, "Iemand anders heeft dit object intussen gewijzigd."));
        say("Niet opgeslagen: iemand anders heeft dit object intussen gewijzigd.", "error");
        if (!res.ok) { box.appendChild(el("p", null, "Het object bestaat niet meer (" + res.status + ").")); extra.appendChild(box); return; }
        var theirs = res.doc;
        box.appendChild(el("p", null, "Gewijzigd door een ander (versie " + res.etag + "). Uw versie staat nog in het formulier; de andere is gestreept op de kaart."));
        var table = el("table", "rc-edit-diff");
        var hr = el("tr");
        ["Veld", "Andere versie", "Uw versie"].forEach(function (t) { hr.appendChild(el("th", null, t)); });
        table.appendChild(hr);
        var yours = mine ? mine.properties : formValues();
        c.fields.forEach(function (field) {
          var a = (theirs.properties || {})[field.name], b = yours[field.name];
          if (String(a === undefined ? "" : a) === String(b === undefined ? "" : b)) { return; }
          var tr = el("tr", "rc-diff-row");
          tr.appendChild(el("td", null, field.label));
          tr.appendChild(el("td", null, a === null || a === undefined ? "–" : a));
          tr.appendChild(el("td", null, b === null || b === undefined ? "–" : b));
          table.appendChild(tr);
        });
        box.appendChild(table);
        ghost.clearLayers();
        L.geoJSON(theirs, { style: { color: "#6a1b9a", weight: 2, dashArray: "6 4", fill: false }, pmIgnore: true, interactive: false }).addTo(ghost);
        var keep = el("button", "rc-keep-mine", "Mijn versie opslaan");
        keep.type = "button";
        keep.addEventListener("click", function () { current.etag = res.etag; extra.textContent = ""; ghost.clearLayers(); save(cfg.role === "gemeente-editor" || (theirs.draft === true)); });
        var take = el("button", "rc-take-theirs", "Andere versie overnemen");
        take.type = "button";
        take.addEventListener("click", function () {
          current.etag = res.etag;
          current.base = theirs.geometry;
          revertGeometry();
          current.doc = theirs;
          renderForm(theirs.properties || {}, theirs);
          ghost.clearLayers();
          say("De andere versie is overgenomen.", "ok");
        });
        box.appendChild(keep);
        box.appendChild(take);
        extra.appendChild(box);
      }).catch(function (err) { say(err.message, "error"); });
    }

    /* The history: who, when, what changed; each state on the map; restore one. */
    function showHistory() {
      var c = current.layer, fid = current.fid;
      api("GET", featureUrl(c, fid) + "/history").then(function (res) {
        var extra = body.querySelector(".rc-edit-extra");
        extra.textContent = "";
        if (!res.ok) { say("Geschiedenis niet te lezen (" + res.status + ")", "error"); return; }
        var box = el("section", "rc-edit-history");
        box.appendChild(el("h4", null, "Geschiedenis van object " + fid));
        var list = el("ol", "rc-history-list");
        var versions = res.doc.versions.slice().reverse();
        versions.forEach(function (v, i) {
          var li = el("li", "rc-history-entry");
          var when = v.changed_at ? dateTime.format(new Date(v.changed_at)) : "";
          li.appendChild(el("div", null, when + " – " + (CHANGE_NL[v.change] || v.change) + " door " + (v.changed_by || "onbekend")));
          li.appendChild(el("div", "rc-history-state", (cfg.states[v.workflow] || v.workflow) + (v.workflow_reason ? " – " + v.workflow_reason : "") + " · " + ((v.feature.properties || {}).naam || "")));
          var show = el("button", "rc-history-show", "Toon op kaart");
          show.type = "button";
          show.addEventListener("click", function () {
            ghost.clearLayers();
            var g = L.geoJSON(v.feature, { style: { color: "#00838f", weight: 2, dashArray: "2 4", fillOpacity: 0.1 }, pmIgnore: true, interactive: false }).addTo(ghost);
            map.fitBounds(g.getBounds(), { maxZoom: 17, padding: [40, 40] });
          });
          li.appendChild(show);
          if (i > 0) {
            var restore = el("button", "rc-history-restore", "Herstel deze versie");
            restore.type = "button";
            restore.addEventListener("click", function () {
              api("POST", featureUrl(c, fid) + "/restore?version=" + v.version_from, undefined, current.etag).then(function (r) {
                if (r.status === 412) { conflict(null); return; }
                if (!r.ok) { showProblem(r); return; }
                ghost.clearLayers();
                return refresh(c, fid, false).then(function () { say("De versie van " + when + " is hersteld.", "ok"); });
              }).catch(function (err) { say(err.message, "error"); });
            });
            li.appendChild(restore);
          }
          list.appendChild(li);
        });
        box.appendChild(list);
        extra.appendChild(box);
      }).catch(function (err) { say(err.message, "error"); });
    }

    map.getContainer().addEventListener("keydown", function (e) {
      if (e.key === "Escape" && current) { revertGeometry(); deselect(); }
    });
    return { select: select, current: function () { return current; } };
  }

  window.RuimteEdit = { attach: attach };
})();
