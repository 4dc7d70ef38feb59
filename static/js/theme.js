/* Theme: Auto (the browser's preference), Light or Dark.
 *
 * Loaded in <head> without defer, before the stylesheets: the stored choice is on <html> as
 * data-theme="light|dark" (nothing for Auto) before the first paint, so no page shows the other
 * theme first. The colours themselves are CSS (app.css: color-scheme and light-dark()); this only
 * says which scheme. The header's Theme select stores the choice in localStorage and applies it at
 * once, in this tab and in every other open tab (the storage event). Without JavaScript the select
 * stays hidden and the pages follow the browser.
 */
(function () {
  "use strict";

  const KEY = "podstudio-theme";
  const CHOICES = ["auto", "light", "dark"];
  const SELECT_ID = "theme-choice";

  function stored() {
    try {
      const value = window.localStorage.getItem(KEY);
      return CHOICES.includes(value) ? value : "auto";
    } catch {
      return "auto"; // storage refused (privacy settings): follow the browser
    }
  }

  function store(choice) {
    try {
      if (choice === "auto") window.localStorage.removeItem(KEY);
      else window.localStorage.setItem(KEY, choice);
    } catch {
      // not stored: the choice holds for this page only
    }
  }

  // The select shows the choice and is shown; pages without the header (404) have none.
  function syncSelect(choice) {
    const select = document.getElementById(SELECT_ID);
    if (!select) return;
    select.value = choice;
    const wrapper = select.closest(".theme-switch");
    if (wrapper) wrapper.hidden = false;
  }

  function apply(choice) {
    const root = document.documentElement;
    if (choice === "light" || choice === "dark") root.dataset.theme = choice;
    else delete root.dataset.theme;
    syncSelect(choice);
  }

  apply(stored());

  document.addEventListener("DOMContentLoaded", () => syncSelect(stored()));
  // Delegated: htmx's history restore replaces the body, select included.
  document.addEventListener("change", (event) => {
    if (event.target.id !== SELECT_ID) return;
    const choice = CHOICES.includes(event.target.value) ? event.target.value : "auto";
    store(choice);
    apply(choice);
  });
  document.addEventListener("htmx:historyRestore", () => syncSelect(stored()));
  // Another tab changed it; or this page comes back from the back-forward cache.
  window.addEventListener("storage", (event) => {
    if (event.key === KEY || event.key === null) apply(stored());
  });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) apply(stored());
  });
})();
