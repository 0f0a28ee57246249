// The regency map: one marker per site, coloured by live status (or rollout stage when the
// site is not monitored yet), filtered by kecamatan, stage and status.
(function () {
  "use strict";
  var COLORS = {up: "#2a9d8f", down: "#d62828", unknown: "#8d99ae", excluded: "#6c757d"};
  var STAGE_COLORS = {blankspot: "#000000", planned: "#ffb703", surveyed: "#fb8500",
    installed: "#219ebc", active: "#2a9d8f", suspended: "#9d0208", decommissioned: "#6c757d"};
  var el = document.getElementById("map");
  var map = L.map(el).setView([-0.95, 114.9], 8);
  L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 18, attribution: "&copy; OpenStreetMap contributors"
  }).addTo(map);
  var layer = L.layerGroup().addTo(map);
  var form = document.getElementById("map-filters");
  var rows = [];

  function matches(row) {
    var f = new FormData(form);
    return (!f.get("kecamatan") || row.kecamatan_code === f.get("kecamatan")) &&
      (!f.get("stage") || row.stage === f.get("stage")) &&
      (!f.get("status") || row.status === f.get("status"));
  }

  function text(s) { var d = document.createElement("div"); d.textContent = s; return d.innerHTML; }

  function render() {
    layer.clearLayers();
    var list = document.getElementById("no-coords");
    list.innerHTML = "";
    var shown = 0;
    rows.filter(matches).forEach(function (row) {
      shown += 1;
      if (row.lat === null) {
        var li = document.createElement("li");
        li.innerHTML = '<a href="' + row.url + '">' + text(row.village) + "</a>";
        list.appendChild(li);
        return;
      }
      var color = row.status ? COLORS[row.status] : (STAGE_COLORS[row.stage] || "#333");
      L.circleMarker([row.lat, row.lon], {radius: 7, color: color, fillColor: color,
        fillOpacity: 0.85, className: "site-marker site-" + (row.status || row.stage)})
        .bindPopup('<a href="' + row.url + '">' + text(row.village) + "</a><br>" +
          text(row.kecamatan) + "<br>" + text(row.stage_label) + " · " + text(row.status_label))
        .on("click", function () { if (window.LINDA_MAP_FOLLOW) { location.href = row.url; } })
        .addTo(layer);
    });
    document.getElementById("map-count").textContent = shown + " / " + rows.length;
    el.dataset.shown = String(shown);
  }

  form.addEventListener("change", render);
  fetch(el.dataset.url, {credentials: "same-origin"}).then(function (r) { return r.json(); })
    .then(function (data) { rows = data.sites; render(); });
})();
