// Burn charts (funding burn pages): each canvas[data-burn-chart] reads its series from the JSON in
// the data-burn-data attribute of the element around it (no inline script: the CSP forbids it).
// Cumulative plan, actual and forecast by month; a null value leaves a gap. Colours come from the
// CSS variables of app.css.
(function () {
  "use strict";
  if (window.burnChartsReady) return;
  window.burnChartsReady = true;

  var COLOURS = { faint: "--faint", accent: "--accent", "at-risk": "--warn" };

  function colour(name) {
    var variable = COLOURS[name] || "--muted";
    var value = getComputedStyle(document.documentElement).getPropertyValue(variable).trim();
    return value || "#5b6573";
  }

  function moneyIn(symbol) {
    return function (value) { return (symbol || "") + Math.round(value).toLocaleString("en"); };
  }

  function draw(canvas) {
    if (!window.Chart) return;
    var source = canvas.closest("[data-burn-data]");
    if (!source) return;
    var data = JSON.parse(source.dataset.burnData);
    var money = moneyIn(data.currency);
    var old = window.Chart.getChart(canvas);
    if (old) old.destroy();
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (series) {
          var c = colour(series.colour);
          return {
            label: series.label,
            data: series.data,
            borderColor: c,
            backgroundColor: c,
            borderWidth: 2,
            borderDash: series.dashed ? [6, 4] : [],
            pointRadius: 2,
            spanGaps: false,
            tension: 0
          };
        })
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          x: { title: { display: true, text: "Month" } },
          y: {
            beginAtZero: true,
            title: { display: true, text: data.unit },
            ticks: { callback: money }
          }
        },
        plugins: {
          legend: {
            display: data.series.length > 1,
            labels: { usePointStyle: true, pointStyle: "line" }
          },
          tooltip: {
            callbacks: {
              label: function (item) { return item.dataset.label + ": " + money(item.parsed.y); }
            }
          }
        }
      }
    });
  }

  function drawAll(root) {
    var canvases = root.querySelectorAll ? root.querySelectorAll("canvas[data-burn-chart]") : [];
    Array.prototype.forEach.call(canvases, draw);
  }

  if (window.htmx) {
    window.htmx.onLoad(drawAll);
  } else {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  }
})();
