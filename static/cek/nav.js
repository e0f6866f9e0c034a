// Menus of the main navigation (<details class="navgroup">): one open at a time, closed by a click elsewhere
// or by Escape. Without JavaScript they still open and close on click.
(function () {
  "use strict";
  // On narrow screens (see app.css) the menu collapses behind the "Menu" button. Without JavaScript the button
  // stays hidden and the menu is always shown.
  var topbar = document.querySelector(".topbar");
  var toggle = document.querySelector(".nav-toggle");
  if (topbar && toggle) {
    topbar.classList.add("nav-collapsible");
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = topbar.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && topbar.classList.contains("nav-open")) {
        topbar.classList.remove("nav-open");
        toggle.setAttribute("aria-expanded", "false");
        toggle.focus();
      }
    });
  }
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
