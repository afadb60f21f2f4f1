/* qmi_geo: walk annotations layer (clustered markers with the dominant theme's symbol,
   lazy popups, filters by theme and valence from the legend, comment search).
   Participant text is only ever written with textContent. */
window.qmiSearch = window.qmiSearch || [];
window.qmiAnnotationLayer = function (map, data) {
  // Theme counts of a cluster: one walk over its markers, no array of them built, reusing
  // the counts already known for its sub-clusters. Kept on the cluster while its marker
  // count is unchanged and no marker has left the group since (a removal bumps `removals`).
  var removals = 0;
  function known(c) {
    return c.qmiCounts && c.qmiCountsKey === c._childCount + "|" + removals ? c.qmiCounts : null;
  }
  function addCounts(c, counts) {
    var done = known(c), t, i;
    if (done) {
      for (t in done) { counts[t] = (counts[t] || 0) + done[t]; }
      return;
    }
    var ms = c._markers, cs = c._childClusters;
    for (i = 0; i < ms.length; i++) { t = ms[i].options.qmiTheme; counts[t] = (counts[t] || 0) + 1; }
    for (i = 0; i < cs.length; i++) { addCounts(cs[i], counts); }
  }
  function themeCounts(c) {
    var counts = known(c);
    if (!counts) {
      counts = {}; addCounts(c, counts);
      c.qmiCounts = counts; c.qmiCountsKey = c._childCount + "|" + removals;
    }
    return counts;
  }
  function dominant(counts) {  // most frequent theme; ties go to the theme listed first
    var best = null;
    for (var t in data.themes) {
      if (counts[t] && (best === null || counts[t] > counts[best])) { best = t; }
    }
    return best;
  }
  function clusterIcon(cluster) {
    var counts = themeCounts(cluster), best = dominant(counts), n = cluster.getChildCount();
    var t = data.themes[best];
    var box = document.createElement("div"); box.className = "qmi-grappe";
    box.style.borderColor = t.colour;
    var g = document.createElement("span"); g.className = "qmi-grappe-glyphe";
    g.style.background = t.colour; g.style.color = t.ink; g.textContent = t.glyph;
    box.appendChild(g);
    var c = document.createElement("span"); c.className = "qmi-grappe-n";
    c.textContent = String(n); box.appendChild(c);
    box.title = n + " annotations, surtout « " + t.label + " » (" + counts[best] + ")";
    return L.divIcon({html: box.outerHTML, className: "qmi-marqueur", iconSize: [46, 26],
                      iconAnchor: [23, 13]});
  }
  // markers are queued one by one before the group reaches the map, without chunked
  // loading: markercluster then clusters them all in one pass when the group is added, the
  // quickest way to every marker on the map. (Its addLayers, before the map, checks each
  // marker against the queue: quadratic, 1.7 s for 50,000 markers; addLayer just queues.)
  var cluster = L.markerClusterGroup({maxClusterRadius: 45,
      spiderfyOnMaxZoom: true, showCoverageOnHover: false, disableClusteringAtZoom: 19,
      iconCreateFunction: clusterIcon});
  var icons = {};
  function icon(t, v) {
    var key = t + "|" + v;
    if (!icons[key]) {
      icons[key] = L.divIcon({html: data.themes[t].icons[v], className: "qmi-marqueur",
                              iconSize: [22, 22], iconAnchor: [11, 11], popupAnchor: [0, -10]});
    }
    return icons[key];
  }
  function row(dl, label, value) {
    if (value === null || value === undefined || value === "") { return null; }
    var dt = document.createElement("dt"); dt.textContent = label;
    var dd = document.createElement("dd"); dd.textContent = String(value);
    dl.appendChild(dt); dl.appendChild(dd); return dd;
  }
  function popup(t, v, intensite, commentaire, date, photo) {
    var div = document.createElement("div"); div.className = "qmi-popup";
    var h = document.createElement("h3"); h.textContent = data.themes[t].label;
    div.appendChild(h);
    var dl = document.createElement("dl"); div.appendChild(dl);
    row(dl, "Ressenti", data.valences[v]);
    if (intensite !== null && intensite !== undefined) { row(dl, "Intensité", intensite + " / 3"); }
    row(dl, "Commentaire", commentaire);
    row(dl, "Date", date);
    var ph = photo ? data.photos[photo] : null;
    if (ph && ph.src) {
      var fig = document.createElement("figure"); fig.className = "qmi-photo";
      var img = document.createElement("img"); img.src = ph.src; img.alt = ph.alt;
      img.width = ph.w; img.height = ph.h; fig.appendChild(img);
      var cap = document.createElement("figcaption"); cap.textContent = ph.alt;
      fig.appendChild(cap); div.appendChild(fig);
    } else if (ph) {
      var dd = row(dl, "Photo", ph.alt + (ph.note ? " (" + ph.note + ")" : ""));
      if (ph.href && dd) {
        dd.textContent = "";
        var a = document.createElement("a"); a.href = ph.href; a.target = "_blank";
        a.rel = "noopener"; a.textContent = ph.alt + " (" + ph.note + ")"; dd.appendChild(a);
      }
    }
    return div;
  }
  var markers = new Array(data.points.length);
  var norm = null;  // comments simplified for the search, computed on the first search
  function simplify(s) {
    return String(s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  function pointPopup(i) {
    var p = data.points[i];
    return popup(p[2], p[3], p[4], p[5], p[6], p[7]);
  }
  // A marker's popup is bound when the marker is first drawn on its own (not inside a
  // cluster), opened, or asked for: not 50,000 popup objects up front.
  var LazyMarker = L.Marker.extend({
    getPopup: function () {
      if (!this._popup) {
        var i = this.qmiIndex;
        this.bindPopup(function () { return pointPopup(i); });
      }
      return this._popup;
    },
    openPopup: function (latlng) {
      this.getPopup();
      return L.Marker.prototype.openPopup.call(this, latlng);
    },
    onAdd: function (map) {
      this.getPopup();
      return L.Marker.prototype.onAdd.call(this, map);
    }
  });
  for (var i = 0; i < data.points.length; i++) {
    var p = data.points[i], label = data.themes[p[2]].label;
    var m = new LazyMarker([p[0], p[1]], {icon: icon(p[2], p[3]), keyboard: true,
                                          qmiTheme: p[2], qmiValence: p[3],
                                          title: label, alt: label});
    m.qmiIndex = i;
    markers[i] = m;
    cluster.addLayer(m);
  }
  var shapes = L.geoJSON(data.formes, {
    style: function (f) {
      var t = data.themes[f.properties.theme] || {colour: "#999"};
      return {color: t.colour, weight: 3, fillOpacity: 0.2,
              dashArray: f.properties.valence === "neutre" ? "2 4" : null};
    },
    onEachFeature: function (f, layer) {
      var q = f.properties;
      layer.bindPopup(function () { return popup(q.theme, q.valence, q.intensite, q.commentaire, q.date, q.photo); });
    }
  });
  var removeMarker = cluster._removeLayer;  // every way a marker leaves the group ends here
  cluster._removeLayer = function () { removals++; return removeMarker.apply(this, arguments); };
  var group = L.featureGroup([cluster, shapes]);
  group.qmiMarkers = markers;
  group.qmiCluster = cluster;
  window.qmiAnnotations = group;

  // ---- filters: the legend's theme and valence entries are toggle buttons ---------------
  var hiddenThemes = {}, hiddenValences = {};
  function visible(t, v) { return !hiddenThemes[t] && !hiddenValences[v]; }
  function applyFilters() {
    cluster.clearLayers();
    cluster.addLayers(markers.filter(function (m) {
      return visible(m.options.qmiTheme, m.options.qmiValence);
    }));
    shapes.eachLayer(function (l) {
      var q = l.feature.properties, on = visible(q.theme, q.valence);
      l.setStyle({opacity: on ? 1 : 0, fillOpacity: on ? 0.2 : 0});
    });
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("button.qmi-filtre");
    if (!b) { return; }
    var on = b.getAttribute("aria-pressed") !== "true";
    b.setAttribute("aria-pressed", String(on));
    var t = b.getAttribute("data-theme"), v = b.getAttribute("data-valence");
    if (t) { hiddenThemes[t] = !on; }
    if (v) { hiddenValences[v] = !on; }
    if (!map.hasLayer(group)) { map.addLayer(group); }
    applyFilters();
  });
  group.qmiFilter = function (themes, valences) {
    hiddenThemes = themes || {}; hiddenValences = valences || {}; applyFilters();
  };

  // ---- the walk's comments in the page's search box ---------------------------------------
  window.qmiSearch.push(function (q) {
    var out = [];
    if (norm === null) { norm = data.points.map(function (p) { return simplify(p[5]); }); }
    for (var i = 0; i < norm.length && out.length < 15; i++) {
      if (norm[i].indexOf(q) === -1) { continue; }
      (function (m, p) {
        out.push({text: data.themes[p[2]].label + " — " + p[5].slice(0, 80), go: function () {
          if (!map.hasLayer(group)) { map.addLayer(group); }
          if (!cluster.hasLayer(m)) { hiddenThemes = {}; hiddenValences = {}; applyFilters(); }
          cluster.zoomToShowLayer(m, function () { m.openPopup(); });
        }});
      })(markers[i], data.points[i]);
    }
    return out;
  });
  return group;
};
