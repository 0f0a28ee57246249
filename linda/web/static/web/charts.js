// Site charts: rtt/loss, battery voltage/SoC, traffic and hotspot users, from metrics.json.
(function () {
  "use strict";
  var box = document.getElementById("charts");
  if (!box) { return; }
  var labels = JSON.parse(box.dataset.labels);
  var GROUPS = [["rtt_ms", "loss_pct"], ["battery_voltage_v", "battery_soc_pct"],
    ["rx_bps", "tx_bps"], ["hotspot_users"]];
  var COLORS = ["#0b4f6c", "#d62828"];
  var LANG = document.documentElement.lang || "id";
  var WIB = {timeZone: "Asia/Jakarta"};
  var NUMBER = new Intl.NumberFormat(LANG, {maximumFractionDigits: 1});
  var HOUR = new Intl.DateTimeFormat(LANG, Object.assign({hour: "2-digit", minute: "2-digit"}, WIB));
  var DAY = new Intl.DateTimeFormat(LANG, Object.assign({day: "numeric", month: "short"}, WIB));
  var FULL = new Intl.DateTimeFormat(LANG, Object.assign({dateStyle: "medium", timeStyle: "short"}, WIB));
  // Same-unit pairs share one scale (traffic down and up); others get one axis each.
  var SHARED = {rx_bps: true, tx_bps: true};

  // 1234567 -> "1,2 M" (in the page's language): bit/s and byte counts stay readable.
  function si(v) {
    if (v === null || v === undefined) { return "--"; }
    var a = Math.abs(v);
    if (a >= 1e9) { return NUMBER.format(v / 1e9) + " G"; }
    if (a >= 1e6) { return NUMBER.format(v / 1e6) + " M"; }
    if (a >= 1e4) { return NUMBER.format(v / 1e3) + " k"; }
    return NUMBER.format(v);
  }
  function ticks(u, splits) { return splits.map(si); }
  function times(u, splits, axis, space, incr) {
    var f = incr >= 86400 ? DAY : HOUR;
    return splits.map(function (t) { return f.format(new Date(t * 1000)); });
  }

  function draw(data) {
    box.innerHTML = "";
    GROUPS.forEach(function (group) {
      var has = group.some(function (k) { return data[k].some(function (v) { return v !== null; }); });
      if (!has) { return; }
      var el = document.createElement("div");
      el.className = "chart";
      box.appendChild(el);
      var shared = group.every(function (k) { return SHARED[k]; });
      var series = [{label: labels.t || "t", value: function (u, t) {
        return t === null ? "--" : FULL.format(new Date(t * 1000)); }}].concat(group.map(function (k, i) {
        return {label: labels[k] || k, stroke: COLORS[i], width: 1.5,
          scale: i && !shared ? "r" : "l", value: function (u, v) { return si(v); }};
      }));
      var axes = [{values: times}, {scale: "l", values: ticks, size: 60}];
      if (group.length > 1 && !shared) {
        axes.push({scale: "r", side: 1, grid: {show: false}, values: ticks, size: 60});
      }
      new uPlot({width: Math.min(box.clientWidth || 600, 900), height: 180,
        series: series, axes: axes}, [data.t].concat(group.map(function (k) { return data[k]; })), el);
    });
    box.dataset.loaded = "1";
  }

  function load() {
    var range = document.getElementById("chart-range").value;
    fetch(box.dataset.url + "?range=" + range, {credentials: "same-origin"})
      .then(function (r) { return r.json(); }).then(draw);
  }
  document.getElementById("chart-range").addEventListener("change", load);
  load();
})();
