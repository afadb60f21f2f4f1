/* qmi_geo: page-wide behaviour of the carte sensible.
   - popups with a bounded height, auto-pan that stays near the quarter, the view restored
     when an auto-panned popup closes, Escape closes popups and panels;
   - « Recentrer sur le quartier » control and a pan limit around the quarter;
   - a mask fading everything outside the quarter, the quarter's outline above it;
   - labels of streets, stations and sites from our own layers, shown from a zoom level;
   - one search box over places (sites, streets, stations) and the providers other layers
     register (the walk's comments);
   - under 600 px wide, every panel folds into one drawer opened by a single button.
   Text from data goes on screen with textContent only. */
window.qmiSearch = window.qmiSearch || [];
window.qmiCarte = function (map, data) {
  var small = function () { return window.matchMedia("(max-width: 600px)").matches; };
  var quarter = L.latLngBounds(data.bounds);

  // ---- popups that never lose the map -------------------------------------------------
  var popupHeight = Math.round(Math.max(160, Math.min(360, map.getSize().y * 0.45)));
  L.Popup.mergeOptions({maxHeight: popupHeight, maxWidth: small() ? 260 : 320,
                        autoPanPaddingTopLeft: L.point(56, small() ? 56 : 16),
                        autoPanPaddingBottomRight: L.point(16, 28)});
  map.setMaxBounds(quarter.pad(1.0));
  map.options.maxBoundsViscosity = 0.9;
  var before = null;
  map.on("autopanstart", function () { if (!before) { before = map.getCenter(); } });
  map.on("popupclose", function () {
    if (before) { var c = before; before = null; map.panTo(c); }
  });

  // ---- recentre control -------------------------------------------------------------
  var Recentre = L.Control.extend({
    options: {position: "topleft"},
    onAdd: function () {
      var bar = L.DomUtil.create("div", "leaflet-bar leaflet-control qmi-recentrer");
      var a = L.DomUtil.create("a", "", bar);
      a.href = "#"; a.setAttribute("role", "button");
      a.title = "Recentrer sur le quartier"; a.setAttribute("aria-label", a.title);
      // a crosshair drawn in SVG (no symbol font needed offline)
      a.innerHTML = '<svg width="18" height="18" viewBox="0 0 18 18" aria-hidden="true">' +
        '<circle cx="9" cy="9" r="5.5" fill="none" stroke="#222" stroke-width="1.8"/>' +
        '<circle cx="9" cy="9" r="1.6" fill="#222"/><path d="M9 0v4M9 14v4M0 9h4M14 9h4" ' +
        'stroke="#222" stroke-width="1.8"/></svg>';
      L.DomEvent.on(a, "click", function (e) {
        L.DomEvent.stop(e); map.closePopup(); before = null; map.fitBounds(quarter);
      });
      L.DomEvent.disableClickPropagation(bar);
      return bar;
    }
  });
  new Recentre().addTo(map);

  // ---- mask outside the quarter, and the quarter's outline above it --------------------
  map.createPane("qmiMasque").style.zIndex = 405;
  map.getPane("qmiMasque").style.pointerEvents = "none";
  map.createPane("qmiQuartier").style.zIndex = 406;
  map.getPane("qmiQuartier").style.pointerEvents = "none";
  if (data.mask) {
    L.geoJSON(data.mask, {pane: "qmiMasque", interactive: false,
      style: {stroke: false, fillColor: "#f4f3ee", fillOpacity: 0.62}}).addTo(map);
  }
  if (data.quarter) {
    L.geoJSON(data.quarter, {pane: "qmiQuartier", interactive: false,
      style: {color: data.quarterColour, weight: 3.5, fill: false}}).addTo(map);
  }

  // ---- labels from our layers ----------------------------------------------------------
  map.createPane("qmiEtiquettes").style.zIndex = 590;
  map.getPane("qmiEtiquettes").style.pointerEvents = "none";
  var labelGroup = L.layerGroup();
  var labels = (data.labels || []).map(function (l) {
    var span = document.createElement("span");
    span.className = "qmi-etiquette qmi-etiquette-" + l[3]; span.textContent = l[2];
    var m = L.marker([l[0], l[1]], {pane: "qmiEtiquettes", interactive: false, keyboard: false,
      icon: L.divIcon({html: span.outerHTML, className: "qmi-etiquette-boite",
                       iconSize: null, iconAnchor: [-6, 8]})});
    return {marker: m, minZoom: l[4]};
  });
  function showLabels() {
    var z = map.getZoom();
    labels.forEach(function (l) {
      var on = z >= l.minZoom;
      if (on && !labelGroup.hasLayer(l.marker)) { labelGroup.addLayer(l.marker); }
      if (!on && labelGroup.hasLayer(l.marker)) { labelGroup.removeLayer(l.marker); }
    });
  }
  map.on("zoomend", showLabels);
  showLabels();
  if (labels.length) { labelGroup.addTo(map); }
  window.qmiEtiquettes = labelGroup;

  // ---- search over places and comments -----------------------------------------------
  function simplify(s) {
    return String(s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  var places = (data.places || []).map(function (p) {
    return {lat: p[0], lon: p[1], name: p[2], kind: p[3], norm: simplify(p[2])};
  });
  var mark = null;
  window.qmiSearch.unshift(function (q) {
    return places.filter(function (p) { return p.norm.indexOf(q) !== -1; }).map(function (p) {
      return {text: p.kind + " — " + p.name, go: function () {
        if (mark) { map.removeLayer(mark); }
        mark = L.circleMarker([p.lat, p.lon], {radius: 14, color: "#111", weight: 3,
          fill: false, dashArray: "4 3", interactive: false}).addTo(map);
        map.setView([p.lat, p.lon], Math.max(map.getZoom(), 17));
      }};
    });
  });
  var Search = L.Control.extend({
    options: {position: "topright"},
    onAdd: function () {
      var box = L.DomUtil.create("div", "qmi-recherche leaflet-control");
      var label = L.DomUtil.create("label", "", box);
      label.textContent = data.searchLabel; label.htmlFor = "qmi-recherche-champ";
      var input = L.DomUtil.create("input", "", box);
      input.type = "search"; input.id = "qmi-recherche-champ";
      input.placeholder = data.searchHint;
      var list = L.DomUtil.create("ul", "", box);
      list.setAttribute("aria-live", "polite");
      L.DomEvent.disableClickPropagation(box); L.DomEvent.disableScrollPropagation(box);
      var timer = null;
      input.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          while (list.firstChild) { list.removeChild(list.firstChild); }
          var q = simplify(input.value.trim());
          if (q.length < 2) { return; }
          var found = [];
          window.qmiSearch.forEach(function (provider) {
            if (found.length < 15) { found = found.concat(provider(q).slice(0, 15 - found.length)); }
          });
          found.forEach(function (r) {
            var li = document.createElement("li");
            var b = document.createElement("button"); b.type = "button"; b.textContent = r.text;
            b.addEventListener("click", function () { closeDrawer(); r.go(); });
            li.appendChild(b); list.appendChild(li);
          });
          if (!found.length) {
            var li2 = document.createElement("li"); li2.textContent = "Aucun résultat.";
            list.appendChild(li2);
          }
        }, 150);
      });
      return box;
    }
  });
  new Search().addTo(map);

  // ---- one drawer on a phone -----------------------------------------------------------
  var container = map.getContainer();
  var drawer = L.DomUtil.create("section", "qmi-tiroir", container);
  drawer.id = "qmi-tiroir"; drawer.hidden = true;
  drawer.setAttribute("aria-label", "Légende, couches et indicateurs");
  L.DomEvent.disableClickPropagation(drawer); L.DomEvent.disableScrollPropagation(drawer);
  var toggle = L.DomUtil.create("button", "qmi-tiroir-bouton", container);
  toggle.type = "button"; toggle.textContent = "☰ Légende et couches";
  toggle.setAttribute("aria-controls", "qmi-tiroir"); toggle.setAttribute("aria-expanded", "false");
  L.DomEvent.disableClickPropagation(toggle);
  var moved = [];
  function panels() {
    var out = [];
    [".qmi-panneau", ".qmi-recherche", ".qmi-couches", ".qmi-legende", ".qmi-export"]
      .forEach(function (sel) {
        var el = container.querySelector(sel);
        if (!el) { return; }
        var ctl = el.closest(".leaflet-control") || el;
        if (out.indexOf(ctl) === -1) { out.push(ctl); }
      });
    return out;
  }
  function openDrawer(open) {
    drawer.hidden = !open;
    container.classList.toggle("qmi-tiroir-ouvert", open);
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? "✕ Fermer" : "☰ Légende et couches";
  }
  function closeDrawer() { if (moved.length) { openDrawer(false); } }
  function restore() {
    moved.forEach(function (m) { if (m[1].parentNode) { m[1].parentNode.replaceChild(m[0], m[1]); } });
    moved = []; container.classList.remove("qmi-petit-ecran");
  }
  function arrange() {
    if (small() && !moved.length) {
      panels().forEach(function (el) {
        var spot = document.createComment("qmi");
        el.parentNode.replaceChild(spot, el); moved.push([el, spot]); drawer.appendChild(el);
      });
      container.classList.add("qmi-petit-ecran");
      openDrawer(false);
    } else if (!small() && moved.length) {
      restore(); openDrawer(false);
    }
  }
  toggle.addEventListener("click", function () { openDrawer(drawer.hidden); });
  window.matchMedia("(max-width: 600px)").addEventListener("change", arrange);
  window.addEventListener("beforeprint", function () {
    restore();
    document.querySelectorAll(".qmi-legende details").forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", arrange);
  // after every control has been added
  setTimeout(arrange, 0);

  // ---- Escape closes what is open --------------------------------------------------------
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") { return; }
    map.closePopup();
    var src = document.getElementById("qmi-sources-liste");
    if (src && !src.hidden) { src.hidden = true; }
    closeDrawer();
  });
  window.qmiPage = {map: map, quarter: quarter, drawer: drawer, openDrawer: openDrawer};
};
