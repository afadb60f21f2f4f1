/* qmi_geo: « carte sur table » drawing tool, French form, ranked list and GeoJSON export.
   Participant text is only ever written with textContent or form values. */
window.qmiAtelier = null;
window.qmiAtelierLayer = function (map, themes, st, existing, slug, kinds) {
  var labels = {}; themes.forEach(function (t) { labels[t[0]] = t[1]; });
  // « site proposé » mode: the commune proposes a deployment site (kind, name, owner)
  kinds = kinds || [];
  var kindLabels = {}; kinds.forEach(function (k) { kindLabels[k[0]] = k[1]; });
  function isSite(p) { return p && p.nature === "site"; }
  var drawn = L.featureGroup();

  var dl = L.drawLocal;
  dl.draw.toolbar.actions = {title: "Annuler le dessin", text: "Annuler"};
  dl.draw.toolbar.finish = {title: "Terminer le dessin", text: "Terminer"};
  dl.draw.toolbar.undo = {title: "Supprimer le dernier point", text: "Supprimer le dernier point"};
  dl.draw.toolbar.buttons = {polyline: "Dessiner une ligne (défi)", polygon: "Dessiner une zone (défi)",
    rectangle: "Dessiner un rectangle (défi)", circle: "Cercle", marker: "Placer un point",
    circlemarker: "Placer un point (défi)"};
  dl.draw.handlers.circlemarker.tooltip.start = "Cliquez sur la carte pour placer le défi.";
  dl.draw.handlers.polyline.tooltip = {start: "Cliquez pour commencer la ligne.",
    cont: "Cliquez pour continuer la ligne.", end: "Cliquez sur le dernier point pour terminer."};
  dl.draw.handlers.polygon.tooltip = {start: "Cliquez pour commencer la zone.",
    cont: "Cliquez pour continuer la zone.", end: "Cliquez sur le premier point pour fermer la zone."};
  dl.draw.handlers.rectangle.tooltip.start = "Cliquez et glissez pour dessiner un rectangle.";
  dl.draw.handlers.simpleshape.tooltip.end = "Relâchez la souris pour terminer.";
  dl.edit.toolbar.actions.save = {title: "Enregistrer les modifications", text: "Enregistrer"};
  dl.edit.toolbar.actions.cancel = {title: "Annuler les modifications", text: "Annuler"};
  dl.edit.toolbar.actions.clearAll = {title: "Effacer tous les défis", text: "Tout effacer"};
  dl.edit.toolbar.buttons = {edit: "Modifier les défis", editDisabled: "Aucun défi à modifier",
    remove: "Supprimer des défis", removeDisabled: "Aucun défi à supprimer"};
  dl.edit.handlers.edit.tooltip = {text: "Déplacez les sommets pour modifier le défi.",
    subtext: "Cliquez sur Annuler pour revenir en arrière."};
  dl.edit.handlers.remove.tooltip = {text: "Cliquez sur un défi pour le supprimer."};

  function newId() {
    return "defi-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 8);
  }
  function styleLayer(layer) {
    if (layer.setStyle) {
      layer.setStyle({color: st.colour, weight: st.weight, fillColor: st.fill,
                      fillOpacity: st.fill_opacity, radius: 9});
    }
  }
  function tipText(p) {
    if (isSite(p)) {
      return "Site proposé — " + (kindLabels[p.type_site] || p.type_site) +
        (p.nom ? " : " + String(p.nom).slice(0, 60) : "");
    }
    return "Défi n° " + p.priorite + " — " + (labels[p.theme] || p.theme) +
      (p.commentaire ? " : " + String(p.commentaire).slice(0, 60) : "");
  }
  // the hover label floats in the map container above every panel (a Leaflet tooltip
  // would slide under the side panel), and each défi shows its priority number
  var tip = L.DomUtil.create("div", "qmi-infobulle", map.getContainer()); tip.hidden = true;
  var numbers = L.layerGroup().addTo(map);
  function showTip(e) {
    var p = e.target.feature && e.target.feature.properties; if (!p) { return; }
    tip.textContent = tipText(p); tip.hidden = false;
    var size = map.getSize(), pt = e.containerPoint;
    var x = Math.min(pt.x + 14, size.x - tip.offsetWidth - 4);
    var y = Math.max(4, Math.min(pt.y - tip.offsetHeight - 8, size.y - tip.offsetHeight - 4));
    tip.style.left = Math.max(4, x) + "px"; tip.style.top = y + "px";
  }
  function anchorOf(layer) {
    if (layer.getLatLng) { return layer.getLatLng(); }
    var ll = layer.getLatLngs(); while (Array.isArray(ll[0])) { ll = ll[0]; }
    if (layer instanceof L.Polygon) { return layer.getBounds().getCenter(); }
    return ll[Math.floor(ll.length / 2)] || layer.getBounds().getCenter();
  }
  function refresh(layer) {
    var p = layer.feature.properties;
    layer.off("mouseover mousemove", showTip).off("mouseout");
    layer.on("mouseover mousemove", showTip);
    layer.on("mouseout", function () { tip.hidden = true; });
    if (layer._qmiNumber) { numbers.removeLayer(layer._qmiNumber); }
    var badge = document.createElement("div"); badge.className = "qmi-defi-numero";
    badge.textContent = isSite(p) ? "S" : String(p.priorite);
    layer._qmiNumber = L.marker(anchorOf(layer), {interactive: false, keyboard: false,
      icon: L.divIcon({html: badge.outerHTML, className: "qmi-marqueur", iconSize: [24, 24],
                       iconAnchor: [12, 12]}), zIndexOffset: 900});
    numbers.addLayer(layer._qmiNumber);
    renderList();
  }
  drawn.on("layerremove", function (e) {
    if (e.layer._qmiNumber) { numbers.removeLayer(e.layer._qmiNumber); }
  });
  map.on(L.Draw.Event.EDITED, function (e) { e.layers.eachLayer(refresh); });
  function attach(layer, props) {
    layer.feature = layer.feature || {type: "Feature", properties: {}};
    layer.feature.properties = props;
    styleLayer(layer);
    layer.on("click", function () { openForm(layer, false); });
    drawn.addLayer(layer);
    refresh(layer);
  }
  L.geoJSON(existing, {pointToLayer: function (f, ll) { return L.circleMarker(ll); }})
    .eachLayer(function (l) { attach(l, Object.assign({}, l.feature.properties)); });

  // ---- the French form -------------------------------------------------------------
  var form = L.DomUtil.create("div", "qmi-formulaire-defi", map.getContainer());
  form.setAttribute("role", "dialog"); form.setAttribute("aria-modal", "true");
  form.setAttribute("aria-labelledby", "qmi-defi-titre"); form.hidden = true;
  form.style.cssText = "position:absolute;z-index:1100;top:60px;left:50%;transform:translateX(-50%);" +
    "background:#fff;padding:10px 14px;border-radius:6px;box-shadow:0 2px 10px rgba(0,0,0,.5);" +
    "width:300px;font-size:13px";
  var h = L.DomUtil.create("h2", "", form); h.id = "qmi-defi-titre"; h.style.fontSize = "15px";
  h.textContent = "Décrire le défi";
  function field(labelText, el, id, parent) {
    var box = parent || form;
    var lab = L.DomUtil.create("label", "", box); lab.htmlFor = id; lab.textContent = labelText;
    lab.style.display = "block"; lab.style.marginTop = "6px";
    el.id = id; el.style.width = "100%"; el.style.boxSizing = "border-box"; box.appendChild(el);
    return el;
  }
  var nature = field("Ce que vous dessinez", document.createElement("select"), "qmi-nature");
  [["defi", "Un défi de l'atelier"], ["site", "Un site proposé pour une solution"]].forEach(
    function (n) {
      var o = document.createElement("option"); o.value = n[0]; o.textContent = n[1];
      nature.appendChild(o);
    });
  if (!kinds.length) { nature.disabled = true; }
  var siteBox = L.DomUtil.create("div", "qmi-champs-site", form); siteBox.hidden = true;
  var kindSel = field("Type de site", document.createElement("select"), "qmi-site-type", siteBox);
  kinds.forEach(function (k) {
    var o = document.createElement("option"); o.value = k[0]; o.textContent = k[1];
    kindSel.appendChild(o);
  });
  var siteName = field("Nom du site", document.createElement("input"), "qmi-site-nom", siteBox);
  var siteOwner = field("Propriétaire ou gestionnaire", document.createElement("input"),
                        "qmi-site-proprietaire", siteBox);
  var defiBox = L.DomUtil.create("div", "qmi-champs-defi", form);
  var sel = field("Thème", document.createElement("select"), "qmi-defi-theme", defiBox);
  themes.forEach(function (t) {
    var o = document.createElement("option"); o.value = t[0]; o.textContent = t[1]; sel.appendChild(o);
  });
  var prio = field("Priorité (1 = la plus importante)", document.createElement("input"),
                   "qmi-defi-priorite", defiBox);
  prio.type = "number"; prio.min = "1"; prio.step = "1";
  var com = field("Commentaire", document.createElement("textarea"), "qmi-defi-commentaire");
  com.rows = 3;
  var err = L.DomUtil.create("p", "", form); err.setAttribute("role", "alert"); err.style.color = "#b2182b";
  var bar = L.DomUtil.create("div", "", form); bar.style.marginTop = "8px";
  function button(text, id) {
    var b = L.DomUtil.create("button", "", bar); b.type = "button"; b.id = id; b.textContent = text;
    b.style.marginRight = "6px"; return b;
  }
  var ok = button("Enregistrer", "qmi-defi-enregistrer");
  var del = button("Supprimer", "qmi-defi-supprimer");
  var cancel = button("Annuler", "qmi-defi-annuler");
  L.DomEvent.disableClickPropagation(form); L.DomEvent.disableScrollPropagation(form);
  var current = null, isNew = false;
  function nextPriority() {
    var max = 0;
    drawn.eachLayer(function (l) {
      if (!isSite(l.feature.properties)) { max = Math.max(max, +l.feature.properties.priorite || 0); }
    });
    return max + 1;
  }
  function showMode() {
    var site = nature.value === "site";
    siteBox.hidden = !site; defiBox.hidden = site;
    h.textContent = site ? "Décrire le site proposé" : "Décrire le défi";
  }
  nature.addEventListener("change", showMode);
  function openForm(layer, fresh) {
    current = layer; isNew = fresh;
    var p = (layer.feature && layer.feature.properties) || {};
    nature.value = isSite(p) ? "site" : "defi";
    sel.value = p.theme || themes[0][0];
    prio.value = p.priorite || nextPriority();
    if (kinds.length) { kindSel.value = p.type_site || kinds[0][0]; }
    siteName.value = p.nom || ""; siteOwner.value = p.proprietaire || "";
    com.value = p.commentaire || "";
    showMode();
    err.textContent = ""; del.hidden = fresh; form.hidden = false; nature.focus();
  }
  function closeForm() { form.hidden = true; current = null; }
  ok.addEventListener("click", function () {
    var old0 = (current.feature && current.feature.properties) || {};
    if (nature.value === "site") {
      var sp = {id: (isSite(old0) && old0.id) || "site-" + newId().slice(5), nature: "site",
                type_site: kindSel.value, type_libelle: kindLabels[kindSel.value],
                nom: siteName.value, proprietaire: siteOwner.value, commentaire: com.value,
                cree_le: old0.cree_le || new Date().toISOString()};
      if (isNew) { attach(current, sp); } else { current.feature.properties = sp; refresh(current); }
      closeForm();
      return;
    }
    var n = Number(prio.value);
    if (!Number.isInteger(n) || n < 1) {
      err.textContent = "La priorité doit être un nombre entier supérieur ou égal à 1.";
      return;
    }
    var old = (current.feature && current.feature.properties) || {};
    var props = {id: (!isSite(old) && old.id) || newId(), theme: sel.value, theme_libelle: labels[sel.value],
                 priorite: n, commentaire: com.value, cree_le: old.cree_le || new Date().toISOString()};
    if (isNew) { attach(current, props); } else { current.feature.properties = props; refresh(current); }
    closeForm();
  });
  del.addEventListener("click", function () { drawn.removeLayer(current); renderList(); closeForm(); });
  cancel.addEventListener("click", function () {
    if (isNew && current) { map.removeLayer(current); }
    closeForm();
  });

  var draw = new L.Control.Draw({
    position: "topleft",
    draw: {circle: false, marker: false,
           circlemarker: {color: st.colour, fillColor: st.fill, fillOpacity: 0.6, radius: 9},
           polyline: {shapeOptions: {color: st.colour, weight: st.weight}},
           polygon: {allowIntersection: false, shapeOptions: {color: st.colour, fillColor: st.fill}},
           rectangle: {shapeOptions: {color: st.colour, fillColor: st.fill}}},
    edit: {featureGroup: drawn}
  });
  map.addControl(draw);
  map.on(L.Draw.Event.CREATED, function (e) {
    map.addLayer(e.layer);
    openForm(e.layer, true);
  });
  map.on(L.Draw.Event.DELETED, function () { renderList(); });

  // ---- export and ranked list ----------------------------------------------------------
  function exportCollection() {
    var feats = [];
    var sites = [];
    drawn.eachLayer(function (l) {
      var f = l.toGeoJSON(6); var p = l.feature.properties;
      if (isSite(p)) {
        f.properties = {id: p.id, nature: "site", type_site: p.type_site,
                        type_libelle: kindLabels[p.type_site] || p.type_site, nom: p.nom || "",
                        proprietaire: p.proprietaire || "", commentaire: p.commentaire || "",
                        cree_le: p.cree_le || null};
        sites.push(f);
        return;
      }
      f.properties = {id: p.id, theme: p.theme, theme_libelle: labels[p.theme] || p.theme,
                      priorite: p.priorite, commentaire: p.commentaire || "", cree_le: p.cree_le || null};
      feats.push(f);
    });
    feats.sort(function (a, b) { return a.properties.priorite - b.properties.priorite; });
    feats = feats.concat(sites);  // the proposed sites follow the ranked défis
    return {type: "FeatureCollection", name: "defis", features: feats};
  }
  var list;
  function renderList() {
    if (!list) { return; }
    while (list.firstChild) { list.removeChild(list.firstChild); }
    var items = [];
    drawn.eachLayer(function (l) { items.push(l.feature.properties); });
    items.sort(function (a, b) {
      return (isSite(a) - isSite(b)) || ((a.priorite || 0) - (b.priorite || 0));
    });
    items.forEach(function (p) {
      var li = document.createElement("li"); li.textContent = tipText(p); list.appendChild(li);
    });
  }
  var Export = L.Control.extend({
    options: {position: "topleft"},
    onAdd: function () {
      var box = L.DomUtil.create("div", "qmi-export leaflet-bar leaflet-control");
      box.style.background = "#fff"; box.style.padding = "4px"; box.style.maxWidth = "260px";
      var b = L.DomUtil.create("button", "", box); b.type = "button"; b.id = "qmi-exporter-defis";
      b.textContent = "Exporter les défis";
      b.title = "Télécharger les défis dessinés (GeoJSON) pour « qmi atelier import »";
      list = L.DomUtil.create("ol", "qmi-liste-defis", box);
      list.style.margin = "4px 0 0"; list.style.paddingLeft = "16px"; list.style.fontSize = "11px";
      list.style.maxHeight = "150px"; list.style.overflowY = "auto";
      L.DomEvent.disableClickPropagation(box); L.DomEvent.disableScrollPropagation(box);
      b.addEventListener("click", function () {
        var text = JSON.stringify(exportCollection(), null, 1);
        var blob = new Blob([text], {type: "application/geo+json"});
        var a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        a.download = "defis_" + slug + "_" + new Date().toISOString().slice(0, 10) + ".geojson";
        document.body.appendChild(a); a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
      });
      return box;
    }
  });
  new Export().addTo(map);
  renderList();
  window.qmiAtelier = {group: drawn, exportCollection: exportCollection, openForm: openForm,
                      numbers: numbers};
  return drawn;
};
