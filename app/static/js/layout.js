/* Layout enhancements; every page works without them.
 * - Marks <html> with the "js" class (the CSS then hides the "Menu" and "Filtres" buttons
 *   on wide screens, where their content is shown open).
 * - <details data-open-from="48rem">: open on screens at least that wide, folded below
 *   (the site menu, the list filters). A details the server rendered open stays open on a
 *   phone until the screen changes size.
 * - .tabs: the current tab is scrolled into view in its horizontally scrolling row.
 */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.querySelectorAll("details[data-open-from]").forEach(function (details) {
    var wide = window.matchMedia("(min-width: " + details.getAttribute("data-open-from") + ")");
    if (wide.matches) {
      details.open = true;
    }
    wide.addEventListener("change", function () {
      details.open = wide.matches;
    });
  });

  document.querySelectorAll(".tabs").forEach(function (tabs) {
    var current = tabs.querySelector('[aria-current="page"], [aria-selected="true"]');
    if (current && tabs.scrollWidth > tabs.clientWidth) {
      var left = current.getBoundingClientRect().left - tabs.getBoundingClientRect().left;
      tabs.scrollLeft += left - (tabs.clientWidth - current.offsetWidth) / 2;
    }
  });
})();
