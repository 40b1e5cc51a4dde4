// kaufland-sync web app: what every page shares.
//
// - The dark-mode toggle. base.html applies the stored theme before the first paint; this file
//   flips it, stores it under the same key and announces it with a "kaufland-sync:theme" event
//   on document (detail: {theme}) so charts can recolour.
// - window.kauflandSync.csrfToken(): the token of <meta name="csrf-token">, for fetch() calls
//   that change something (htmx sends it by itself through <body hx-headers>).
"use strict";

(function () {
  var THEME_KEY = "kaufland-sync.theme";

  function currentTheme() {
    return document.documentElement.dataset.theme === "dark" ? "dark" : "light";
  }

  function showTheme(button) {
    var dark = currentTheme() === "dark";
    button.setAttribute("aria-pressed", dark ? "true" : "false");
    var label = button.querySelector(".theme-toggle-label");
    if (label) {
      label.textContent = dark ? "Light mode" : "Dark mode";
    }
  }

  function setTheme(theme) {
    document.documentElement.dataset.theme = theme;
    try {
      localStorage.setItem(THEME_KEY, theme);
    } catch (e) {
      // Storage disabled (private mode, policy): the choice lasts for this page only.
    }
    document.dispatchEvent(new CustomEvent("kaufland-sync:theme", { detail: { theme: theme } }));
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") || "" : "";
  }

  window.kauflandSync = { csrfToken: csrfToken, currentTheme: currentTheme };

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("theme-toggle");
    if (!button) {
      return;
    }
    showTheme(button);
    button.addEventListener("click", function () {
      setTheme(currentTheme() === "dark" ? "light" : "dark");
      showTheme(button);
    });
  });
})();
