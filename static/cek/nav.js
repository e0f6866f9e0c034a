// Menus of the main navigation (<details class="navgroup">): one open at a time, closed by a click elsewhere
// or by Escape. Without JavaScript they still open and close on click.
(function () {
  "use strict";
  var groups = Array.prototype.slice.call(document.querySelectorAll("details.navgroup"));
  if (!groups.length) { return; }
  function closeAll(except) {
    groups.forEach(function (group) { if (group !== except) { group.removeAttribute("open"); } });
  }
  groups.forEach(function (group) {
    group.addEventListener("toggle", function () { if (group.open) { closeAll(group); } });
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest("details.navgroup")) { closeAll(null); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { closeAll(null); }
  });
})();
