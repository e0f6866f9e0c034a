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
  // The outcome of what was just done (a flash message) takes the focus, so a screen reader reads it first and the
  // keyboard goes on from there, not from the top of the page.
  var outcome = document.querySelector("[data-focus-on-load]");
  if (outcome) { outcome.focus({ preventScroll: false }); }
  var groups = Array.prototype.slice.call(document.querySelectorAll("details.navgroup"));
  if (!groups.length) { return; }
  function closeAll(except) {
    groups.forEach(function (group) { if (group !== except) { group.removeAttribute("open"); } });
  }
  groups.forEach(function (group) {
    group.addEventListener("toggle", function () { if (group.open) { closeAll(group); } });
    // A menu closes once the focus has left it (it would cover the controls below), and Escape inside it closes it
    // with the focus back on its summary.
    group.addEventListener("focusout", function (event) {
      if (group.open && event.relatedTarget && !group.contains(event.relatedTarget)) { group.removeAttribute("open"); }
    });
    group.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && group.open) {
        group.removeAttribute("open");
        group.querySelector("summary").focus();
        event.stopPropagation();
      }
    });
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest("details.navgroup")) { closeAll(null); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { closeAll(null); }
  });
})();
