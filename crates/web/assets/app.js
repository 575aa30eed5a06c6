// spotify-history UI: small enhancements on top of htmx. Every page works without this file.
(function () {
  "use strict";

  // Upload progress: htmx reports the request's upload progress on the form that sent it.
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target && event.target.closest ? event.target.closest("form") : null;
    if (!form) return;
    var bar = form.querySelector("progress.upload-progress");
    if (!bar || !event.detail.lengthComputable) return;
    bar.hidden = false;
    bar.max = event.detail.total;
    bar.value = event.detail.loaded;
    var label = form.querySelector(".upload-percent");
    if (label) label.textContent = Math.round((100 * event.detail.loaded) / event.detail.total) + " %";
  });

  // Copy buttons next to instructions: <button data-copy="id-of-pre">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-copy]") : null;
    if (!button || !navigator.clipboard) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      button.textContent = "Copied";
    });
  });

  // Copy buttons are useless without this script: show them only when it runs.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-copy]").forEach(function (b) { b.hidden = false; });
  });
})();
