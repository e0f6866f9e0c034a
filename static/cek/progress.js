// Progress bar of a background job: polls the element's data-progress-url and reloads the page when the job
// is no longer running (so the result, or the reason it failed, is shown as the server renders it).
(function () {
  "use strict";
  var card = document.querySelector("[data-progress-url]");
  if (!card) { return; }
  var url = card.getAttribute("data-progress-url");
  var bar = card.querySelector("progress");
  var text = card.querySelector("[data-progress-text]");
  // One status, or several separated by spaces (e.g. "queued building"): the job runs while it is in any of them.
  var running = (card.getAttribute("data-progress-running") || "applying").split(/\s+/);
  var unit = card.getAttribute("data-progress-unit") || "keys written";
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (data) {
        if (running.indexOf(data.status) === -1) { window.location.reload(); return; }
        bar.value = data.percent;
        bar.textContent = data.percent + "%";
        if (text) {
          text.textContent = data.percent + "%" + (data.total ? " · " + data.done + " of " + data.total + " " + unit :
            data.message ? " · " + data.message :
            (data.phase === "planning" ? " · checking every row again" : " · waiting for a worker"));
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
