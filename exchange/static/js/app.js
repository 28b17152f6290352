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

  document.addEventListener("DOMContentLoaded", function () {
    linkCheckAll();
    toggleModes();
    linkSubdivisions();
    linkValueChains();
  });
})();
