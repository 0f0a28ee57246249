// Rollout burndown: villages still to connect, against the straight line to the target date.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("burndown-data").textContent);
  var el = document.getElementById("burndown");
  var xs = data.dates.map(function (d) { return Date.parse(d + "T00:00:00+07:00") / 1000; });
  var opts = {
    width: Math.min(el.clientWidth || 600, 900), height: 220,
    series: [{}, {label: el.dataset.remaining || "sisa", stroke: "#d62828", width: 2},
      {label: el.dataset.ideal || "rencana", stroke: "#8d99ae", dash: [6, 4]}],
    axes: [{}, {}]
  };
  new uPlot(opts, [xs, data.remaining, data.ideal], el);
})();
