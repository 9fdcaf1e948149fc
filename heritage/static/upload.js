// Upload with a progress bar; without JavaScript the form posts normally.
"use strict";
(function () {
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    bar.hidden = false;
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round((e.loaded / e.total) * 100);
        status.textContent = Math.round(e.loaded / 1048576) + " / " + Math.round(e.total / 1048576) + " MB";
      }
    };
    xhr.upload.onload = function () { status.textContent = "Checking the files…"; };
    xhr.onload = function () { window.location.reload(); };
    xhr.onerror = function () { status.textContent = "The upload failed; check the connection and try again."; };
    xhr.send(new FormData(form));
  });
})();
