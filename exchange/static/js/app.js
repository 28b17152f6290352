// Progressive enhancement only: every form works without this file.
(function () {
  "use strict";

  // Registration: show only the part of the form that the chosen option needs.
  function toggleModes() {
    var radios = document.querySelectorAll('input[name="mode"]');
    if (!radios.length) return;
    function update() {
      var chosen = document.querySelector('input[name="mode"]:checked');
      document.querySelectorAll("[data-mode]").forEach(function (section) {
        section.hidden = !chosen || section.getAttribute("data-mode") !== chosen.value;
      });
    }
    radios.forEach(function (radio) { radio.addEventListener("change", update); });
    update();
  }

  // Country and region: load the regions of the chosen country.
  function linkSubdivisions() {
    document.querySelectorAll("select[data-subdivisions-url]").forEach(function (country) {
      var target = document.getElementById(country.getAttribute("data-subdivisions-target"));
      if (!target) return;
      country.addEventListener("change", function () {
        var url = country.getAttribute("data-subdivisions-url") + "?country=" + encodeURIComponent(country.value);
        var first = target.options[0] ? target.options[0].cloneNode(true) : null;
        target.disabled = true;
        fetch(url, { headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : []; })
          .then(function (regions) {
            target.innerHTML = "";
            if (first) { first.selected = true; target.appendChild(first); }
            regions.forEach(function (region) {
              var option = document.createElement("option");
              option.value = region.code;
              option.textContent = region.name;
              target.appendChild(option);
            });
          })
          .finally(function () { target.disabled = false; });
      });
    });
  }

  // Project ideas: suggest the value chains of the chosen border area, in the idea's language.
  function linkValueChains() {
    document.querySelectorAll("input[data-value-chains-area]").forEach(function (input) {
      var area = document.getElementById(input.getAttribute("data-value-chains-area"));
      var language = document.getElementById(input.getAttribute("data-value-chains-language"));
      if (!area || !language) return;
      function update() {
        var id = "value-chains-" + (area.value || "all") + "-" + language.value;
        if (document.getElementById(id)) input.setAttribute("list", id);
      }
      area.addEventListener("change", update);
      language.addEventListener("change", update);
    });
  }

  // Review queue: one box to tick or untick every item of the page (hidden without script).
  function linkCheckAll() {
    document.querySelectorAll("input[data-check-all]").forEach(function (all) {
      var name = all.getAttribute("data-check-all");
      var boxes = all.form ? all.form.querySelectorAll('input[type="checkbox"][name="' + name + '"]') : [];
      if (!boxes.length) return;
      all.hidden = false;
      all.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = all.checked; });
      });
    });
  }

  // Profile, practice and idea forms: suggest themes from what the author writes (debounced),
  // as buttons that tick the theme's checkbox. Without this the form is the same.
  function linkThemeSuggestions() {
    var LANGUAGES = ["en", "es", "pt"];
    document.querySelectorAll("[data-theme-suggestions]").forEach(function (box) {
      var form = box.closest("form");
      var list = box.querySelector("[data-suggestion-list]");
      var addLabel = box.getAttribute("data-add-label");
      var sources = (box.getAttribute("data-sources") || "").split(" ")
        .map(function (id) { return document.getElementById(id); })
        .filter(function (field) { return field; });
      var language = document.getElementById(box.getAttribute("data-language-field") || "");
      var themeField = box.getAttribute("data-theme-field") || "themes";
      if (!form || !list || !sources.length) return;
      // The hint written by the server (no script) gives way to the buttons.
      box.querySelectorAll("[data-theme-hint]").forEach(function (hint) { hint.remove(); });
      var timer = null;
      var asked = "";

      function checkbox(id) {
        return form.querySelector('input[type="checkbox"][name="' + themeField + '"][value="' + id + '"]');
      }

      function show(suggestions) {
        list.textContent = "";
        suggestions.forEach(function (theme) {
          var input = checkbox(theme.id);
          if (!input || input.checked) return;
          var button = document.createElement("button");
          button.type = "button";
          button.className = "btn btn-sm btn-outline-primary ms-1 mb-1";
          button.textContent = theme.label;
          if (addLabel) button.setAttribute("aria-label", addLabel + ": " + theme.label);
          button.addEventListener("click", function () {
            input.checked = true;
            input.dispatchEvent(new Event("change", { bubbles: true }));
            button.remove();
            if (!list.children.length) box.hidden = true;
          });
          list.appendChild(button);
        });
        box.hidden = !list.children.length;
      }

      function ask() {
        var text = sources.map(function (field) { return field.value; }).join("\n").trim();
        var lang = language && LANGUAGES.indexOf(language.value) !== -1 ? language.value : "";
        var query = "text=" + encodeURIComponent(text.slice(0, 20000)) + "&language=" + encodeURIComponent(lang);
        if (query === asked) return;
        asked = query;
        if (!text) { show([]); return; }
        fetch(box.getAttribute("data-theme-suggestions") + "?" + query, {
          headers: { Accept: "application/json" },
          credentials: "same-origin"
        })
          .then(function (response) { return response.ok ? response.json() : []; })
          .then(show)
          .catch(function () { /* suggestions are a help, never a condition */ });
      }

      function later() {
        clearTimeout(timer);
        timer = setTimeout(ask, 600);
      }
      sources.forEach(function (field) { field.addEventListener("input", later); });
      if (language) language.addEventListener("change", later);
      form.addEventListener("change", function (event) {
        if (event.target && event.target.name === themeField) { asked = ""; later(); }
      });
      ask();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    linkCheckAll();
    toggleModes();
    linkSubdivisions();
    linkValueChains();
    linkThemeSuggestions();
  });
})();
