// Maps on report, sign-up, incident and public pages. Every page works without this file:
// the neighbourhood list is always there as a fallback.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  if (typeof L === "undefined") return;
  var CENTER = [34.05, -118.25];

  // The network's zones, outlined and named: with no tiles (production without a tile
  // server of the network's own) they are the map; with tiles, a light overlay.
  function drawZones(el, map, plain) {
    var zones = [];
    try { zones = JSON.parse(el.dataset.zones || "[]"); } catch (e) { zones = []; }
    zones.forEach(function (zone) {
      zone.rings.forEach(function (ring, i) {
        var outline = L.polygon(ring, {
          color: "#4a4a4a", weight: plain ? 1.5 : 1, dashArray: "4 3", interactive: false,
          fill: plain, fillColor: "#ffffff", fillOpacity: plain ? 0.6 : 0, className: "zone-outline"
        }).addTo(map);
        if (i === 0) {
          // As text, never as HTML: a zone's name is typed by staff.
          var label = document.createElement("span");
          label.textContent = zone.name;
          outline.bindTooltip(label, { permanent: true, direction: "center", className: "zone-label" });
        }
      });
    });
  }

  function baseMap(el, zoom) {
    var tiles = el.dataset.tiles;
    var maxZoom = parseInt(el.dataset.maxZoom, 10) || 18;
    var map = L.map(el, { maxZoom: maxZoom }).setView(CENTER, zoom || 11);
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: maxZoom, attribution: el.dataset.attribution || "" }).addTo(map);
    } else {
      el.classList.add("plain");
    }
    drawZones(el, map, !tiles);
    return map;
  }

  function setPoint(el, map, marker, lat, lng) {
    document.getElementById(el.dataset.latInput).value = lat.toFixed(6);
    document.getElementById(el.dataset.lngInput).value = lng.toFixed(6);
    if (!marker.m) marker.m = L.marker([lat, lng]).addTo(map);
    else marker.m.setLatLng([lat, lng]);
  }

  document.querySelectorAll(".map.pick").forEach(function (el) {
    var map = baseMap(el, 11);
    var marker = {};
    el._pick = function (lat, lng) { setPoint(el, map, marker, lat, lng); map.setView([lat, lng], 14); };
    // A form sent back with errors keeps the place chosen before: show it again.
    var latIn = document.getElementById(el.dataset.latInput);
    var lngIn = document.getElementById(el.dataset.lngInput);
    if (latIn && lngIn && latIn.value && lngIn.value) {
      el._pick(parseFloat(latIn.value), parseFloat(lngIn.value));
    }
    map.on("click", function (e) { setPoint(el, map, marker, e.latlng.lat, e.latlng.lng); });
  });

  document.querySelectorAll(".use-location").forEach(function (button) {
    button.addEventListener("click", function () {
      if (!navigator.geolocation) return;
      navigator.geolocation.getCurrentPosition(function (pos) {
        var el = document.querySelector('.map.pick[data-lat-input="' + button.dataset.latInput + '"]');
        if (el && el._pick) el._pick(pos.coords.latitude, pos.coords.longitude);
      });
    });
  });

  var incidentMap = document.querySelector(".map[data-incident]");
  if (incidentMap) {
    var data = JSON.parse(incidentMap.dataset.incident);
    var m = baseMap(incidentMap, 15);
    L.polygon(data.boundary, { color: "#b3261e" }).addTo(m);
    m.setView([data.lat, data.lng], 15);
  }

  var publicMap = document.querySelector("#map[data-features]");
  if (publicMap) {
    var pm = baseMap(publicMap, 10);
    JSON.parse(publicMap.dataset.features).forEach(function (f) {
      // As text, never as HTML: an area's name is typed by staff.
      var label = document.createElement("span");
      label.textContent = f.area + " — " + f.activity;
      L.polygon(f.boundary, { color: "#b3261e" }).addTo(pm).bindPopup(label);
    });
  }
})();
