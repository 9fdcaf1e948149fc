// Start Mirador in every element that carries its settings in data-mirador (JSON), and
// wire the "Copy" buttons of the share section. Load the Mirador bundle
// (static/vendor/mirador/mirador.min.js) before this file; both with defer.
"use strict";
(function () {
  var viewers = (window.heritageViewers = []);
  if (window.Mirador) {
    document.querySelectorAll("[data-mirador]").forEach(function (el) {
      var config = JSON.parse(el.getAttribute("data-mirador"));
      config.id = el.id;
      viewers.push(window.Mirador.viewer(config));
    });
  }

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      field.select();
      var done = function () {
        button.textContent = button.getAttribute("data-copied") || button.textContent;
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () {});
      } else if (document.execCommand && document.execCommand("copy")) {
        done();
      }
    });
  });
})();
