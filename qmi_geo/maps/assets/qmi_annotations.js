/* qmi_geo: walk annotations layer (clustered markers, lazy popups, comment search).
   Participant text is only ever written with textContent. */
window.qmiAnnotationLayer = function (map, data) {
  // markers are queued one by one before the group reaches the map (no chunked loading):
  // markercluster then clusters them all in one pass when the group is added. (Its
  // addLayers, before the map, checks each marker against the queue: quadratic, 1.7 s for
  // 50,000 markers; addLayer just queues.)
  var cluster = L.markerClusterGroup({maxClusterRadius: 45,
      spiderfyOnMaxZoom: true, showCoverageOnHover: false, disableClusteringAtZoom: 19});
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
    if (value === null || value === undefined || value === "") { return; }
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
    if (photo) {
      var dd = row(dl, "Photo", "");
      if (!dd) { dd = document.createElement("dd"); var dt = document.createElement("dt");
                 dt.textContent = "Photo"; dl.appendChild(dt); dl.appendChild(dd); }
      if (/^(https?:|[^:]*$)/i.test(photo)) {
        var a = document.createElement("a"); a.href = photo; a.target = "_blank";
        a.rel = "noopener"; a.textContent = photo; dd.appendChild(a);
      } else { dd.textContent = photo; }
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
                                          title: label, alt: label});
    m.qmiIndex = i;
    markers[i] = m;
    cluster.addLayer(m);
  }
  var shapes = L.geoJSON(data.formes, {
    style: function (f) {
      var t = data.themes[f.properties.theme] || {colour: "#999"};
      return {color: t.colour, weight: 3, fillOpacity: 0.2,
              dashArray: f.properties.valence === "positif" ? null : (f.properties.valence === "neutre" ? "2 4" : null)};
    },
    onEachFeature: function (f, layer) {
      var q = f.properties;
      layer.bindPopup(function () { return popup(q.theme, q.valence, q.intensite, q.commentaire, q.date, q.photo); });
    }
  });
  var group = L.featureGroup([cluster, shapes]);
  group.qmiMarkers = markers;
  group.qmiCluster = cluster;
  window.qmiAnnotations = group;

  var Search = L.Control.extend({
    options: {position: "topright"},
    onAdd: function () {
      var box = L.DomUtil.create("div", "qmi-recherche leaflet-control");
      var label = L.DomUtil.create("label", "", box);
      label.textContent = "Rechercher dans les commentaires";
      label.htmlFor = "qmi-recherche-champ";
      label.style.display = "block"; label.style.fontSize = "11px";
      var input = L.DomUtil.create("input", "", box);
      input.type = "search"; input.id = "qmi-recherche-champ";
      input.placeholder = "ex. : ombre, bruit, trottoir…";
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
          var found = 0;
          if (norm === null) { norm = data.points.map(function (p) { return simplify(p[5]); }); }
          for (var i = 0; i < norm.length && found < 15; i++) {
            if (norm[i].indexOf(q) === -1) { continue; }
            found++;
            var li = document.createElement("li");
            var b = document.createElement("button"); b.type = "button";
            var p = data.points[i];
            b.textContent = data.themes[p[2]].label + " — " + p[5].slice(0, 80);
            (function (m) {
              b.addEventListener("click", function () {
                if (!map.hasLayer(group)) { map.addLayer(group); }
                cluster.zoomToShowLayer(m, function () { m.openPopup(); });
              });
            })(markers[i]);
            li.appendChild(b); list.appendChild(li);
          }
          if (!found) {
            var li2 = document.createElement("li"); li2.textContent = "Aucun commentaire trouvé.";
            list.appendChild(li2);
          }
        }, 150);
      });
      return box;
    }
  });
  new Search().addTo(map);
  return group;
};
