/* Atlas's page: draw the server-built plotly figures; keep Airflow links inside the Airflow UI. */
(function () {
  "use strict";
  performance.mark("atlas-script-start");  // plotly.js has loaded and run
  var figures = JSON.parse(document.getElementById("atlas-figures").textContent);
  var config = { displayModeBar: false, responsive: true };
  var drawn = Object.keys(figures).filter(function (id) { return document.getElementById(id); });
  Promise.all(drawn.map(function (id) {
    var figure = figures[id];
    return Plotly.newPlot(id, figure.data, figure.layout, config);
  })).then(function () {
    performance.mark("atlas-charts-rendered");
    document.body.setAttribute("data-charts-rendered", String(drawn.length));
  });

  document.querySelectorAll("[data-submit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // Inside the UI's frame, a link to an Airflow page moves the UI itself (its router listens to
  // popstate) instead of opening a second UI inside the frame.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-airflow-link]");
    if (!link || window.top === window || event.ctrlKey || event.metaKey || event.shiftKey) return;
    try {
      window.top.history.pushState(null, "", link.getAttribute("href"));
      window.top.dispatchEvent(new PopStateEvent("popstate", { state: null }));
      event.preventDefault();
    } catch (err) {
      /* the frame cannot reach the UI's window: follow the link here */
    }
  });
})();
