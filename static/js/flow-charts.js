// Flow-metric charts (valuestreams flow pages): each canvas[data-flow-chart] reads its series from
// the JSON in the data-flow-data attribute around it (htmx drops script elements, data blocks
// too, from swapped fragments: allowScriptTags is off). Drawn on htmx.onLoad; a canvas's old
// chart is destroyed before a new one is drawn. Colours come from the CSS variables of app.css.
(function () {
  "use strict";
  if (window.flowChartsReady) return;
  window.flowChartsReady = true;

  var GREY = "--faint";

  function colour(name) {
    var variable = name === "unmapped" ? GREY : "--" + name;
    var value = getComputedStyle(document.documentElement).getPropertyValue(variable).trim();
    return value || "#5b6573";
  }

  function dataset(kind, series) {
    var c = colour(series.colour);
    return {
      label: series.label,
      data: series.data,
      backgroundColor: c,
      borderColor: c,
      borderWidth: kind === "line" ? 2 : 0,
      pointRadius: kind === "line" ? 2 : 0,
      spanGaps: false,
      stack: kind === "stacked" ? "types" : undefined
    };
  }

  function draw(canvas) {
    if (!window.Chart) return;
    var source = canvas.closest("[data-flow-data]");
    if (!source) return;
    var data = JSON.parse(source.dataset.flowData);
    var spec = data.charts[canvas.dataset.flowChart];
    if (!spec) return;
    var old = window.Chart.getChart(canvas);
    if (old) old.destroy();
    var stacked = spec.kind === "stacked";
    var y = {
      beginAtZero: true,
      stacked: stacked,
      title: { display: true, text: spec.unit }
    };
    if (spec.max) y.max = spec.max;
    new window.Chart(canvas, {
      type: spec.kind === "line" ? "line" : "bar",
      data: {
        labels: data.labels,
        datasets: spec.series.map(function (series) { return dataset(spec.kind, series); })
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          x: {
            stacked: stacked,
            title: { display: true, text: data.window === "week" ? "Week starting" : "Month" }
          },
          y: y
        },
        plugins: { legend: { display: spec.series.length > 1 } }
      }
    });
  }

  function drawAll(root) {
    var canvases = root.querySelectorAll ? root.querySelectorAll("canvas[data-flow-chart]") : [];
    Array.prototype.forEach.call(canvases, draw);
  }

  if (window.htmx) {
    window.htmx.onLoad(drawAll);
  } else {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  }
})();
