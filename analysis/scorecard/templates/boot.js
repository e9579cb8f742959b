// Draws every chart from the page's JSON block, then records on <html> what rendered, so a headless browser
// (and the screenshot test) can check the page without a DevTools session: data-charts, data-charts-drawn,
// data-charts-empty, data-js-errors, and data-ready once every chart has settled.
(function () {
  "use strict";
  var root = document.documentElement;
  var errors = 0;
  root.setAttribute("data-js-errors", "0");
  window.addEventListener("error", function () { errors += 1; root.setAttribute("data-js-errors", String(errors)); });
  var specs = JSON.parse(document.getElementById("scorecard-figures").textContent || "{}");
  var ids = Object.keys(specs);
  var drawn = 0, empty = [];

  function marks(div) {
    // Drawn geometry, not input arrays: a line with a path, a bar, or a marker counts as data on screen.
    var n = 0;
    div.querySelectorAll(".scatterlayer path.js-line, .barlayer .point path, .scatterlayer .point")
      .forEach(function (el) { if ((el.getAttribute("d") || "").length > 2 || el.classList.contains("point")) { n += 1; } });
    return n;
  }

  var pending = ids.map(function (id) {
    var div = document.getElementById(id);
    if (!div || typeof Plotly === "undefined") { empty.push(id); return Promise.resolve(); }
    var spec = specs[id];
    return Promise.resolve(Plotly.newPlot(div, spec.data, spec.layout, { displaylogo: false, responsive: true }))
      .then(function () { if (marks(div) > 0) { drawn += 1; } else { empty.push(id); } })
      .catch(function () { errors += 1; empty.push(id); });
  });
  Promise.all(pending).then(function () {
    root.setAttribute("data-charts", String(ids.length));
    root.setAttribute("data-charts-drawn", String(drawn));
    root.setAttribute("data-charts-empty", empty.join(" "));
    root.setAttribute("data-js-errors", String(errors));
    root.setAttribute("data-ready", "1");
  });
  window.addEventListener("beforeprint", function () {
    ids.forEach(function (id) { var div = document.getElementById(id); if (div) { Plotly.Plots.resize(div); } });
  });
}());
