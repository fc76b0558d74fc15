// CIO dashboard charts: each canvas[data-dashboard-chart] reads its series from the JSON in the
// data-dashboard-charts attribute of its container (no inline script: the CSP forbids it).
// Colours come from the CSS variables of app.css, so status and item-type colours match the
// rest of the app. A drawn canvas gets data-drawn="1" (the browser test waits for it).
(function () {
  "use strict";
  if (window.dashboardChartsReady) return;
  window.dashboardChartsReady = true;

  var VARIABLES = {
    "on-track": "--ok", "at-risk": "--warn", "off-track": "--bad", "no-data": "--none",
    accent: "--accent", faint: "--faint",
    feature: "--feature", defect: "--defect", risk: "--risk", debt: "--debt"
  };

  function colour(name) {
    var variable = VARIABLES[name] || "--faint";
    var value = getComputedStyle(document.documentElement).getPropertyValue(variable).trim();
    return value || "#5b6573";
  }

  function dataset(series) {
    var colours = series.colours ? series.colours.map(colour) : colour(series.colour);
    return {
      label: series.label,
      data: series.data,
      backgroundColor: colours,
      borderColor: colours,
      borderWidth: 0
    };
  }

  function draw(canvas) {
    if (!window.Chart) return;
    var source = canvas.closest("[data-dashboard-charts]");
    if (!source) return;
    var spec = JSON.parse(source.dataset.dashboardCharts)[canvas.dataset.dashboardChart];
    if (!spec) return;
    var old = window.Chart.getChart(canvas);
    if (old) old.destroy();
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: spec.labels, datasets: spec.series.map(dataset) },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, title: { display: true, text: spec.unit } } },
        plugins: { legend: { display: spec.series.length > 1 } }
      }
    });
    canvas.dataset.drawn = "1";
  }

  function drawAll(root) {
    var canvases = root.querySelectorAll ? root.querySelectorAll("canvas[data-dashboard-chart]") : [];
    Array.prototype.forEach.call(canvases, draw);
  }

  if (window.htmx) {
    window.htmx.onLoad(drawAll);
  } else {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  }
})();
