// Progress bar of a background job: polls the element's data-progress-url (the common job status, see
// cek/jobs/views.py) and reloads the page when the job has finished (so the result, or the reason it failed, is
// shown as the server renders it).
(function () {
  "use strict";
  var card = document.querySelector("[data-progress-url]");
  if (!card) { return; }
  var url = card.getAttribute("data-progress-url");
  var bar = card.querySelector("progress");
  var text = card.querySelector("[data-progress-text]");
  // For an answer without "finished": the statuses (separated by spaces) in which the job is still running.
  var running = (card.getAttribute("data-progress-running") || "applying").split(/\s+/);
  var unit = card.getAttribute("data-progress-unit") || "keys written";
  // The bar changes every second; a screen reader hears it every quarter (a live region of its own).
  var live = document.createElement("span");
  live.className = "visually-hidden";
  live.setAttribute("aria-live", "polite");
  card.appendChild(live);
  var announced = -1;
  function describe(data) {
    if (data.total) { return " · " + data.done + " of " + data.total + " " + unit; }
    var phase = data.message || data.phase;
    if (phase === "planning") { return " · checking every row again"; }
    return " · " + (phase || "waiting for a worker");
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (data) {
        var finished = "finished" in data ? data.finished : running.indexOf(data.status) === -1;
        if (finished) { window.location.reload(); return; }
        var percent = "progress" in data ? data.progress : data.percent;
        bar.value = percent;
        bar.textContent = percent + "%";
        if (text) { text.textContent = percent + "%" + describe(data); }
        var quarter = Math.floor(percent / 25);
        if (quarter !== announced) { announced = quarter; live.textContent = percent + "% done"; }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
