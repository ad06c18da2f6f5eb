/* The Documents tab's upload (templates/documents/household.html): shows the progress of the
   sending. Without it the form posts as usual; with it the same POST goes through
   XMLHttpRequest to follow its upload progress. When the server answers with the tab (the
   upload was recorded), the tab is opened again (its "ajouté" message was read by the
   request that followed the redirect: the new documents listed say it); when it refuses
   the files (400, 413), the form is posted again the ordinary way so that the browser shows
   the refusal (nothing was stored the first time). */
(function () {
  "use strict";

  var form = document.querySelector("form[data-upload-progress]");
  if (!form || !window.FormData || !window.XMLHttpRequest) {
    return;
  }
  var bar = form.querySelector("progress");

  form.addEventListener("submit", function (event) {
    if (form.dataset.sending === "plain") {
      return;
    }
    event.preventDefault();
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    if (bar) {
      bar.hidden = false;
      bar.value = 0;
    }
    request.upload.addEventListener("progress", function (progress) {
      if (bar && progress.lengthComputable) {
        bar.value = Math.round((100 * progress.loaded) / progress.total);
      }
    });
    request.addEventListener("load", function () {
      if (request.status === 200) {
        // Recorded: the tab again, with the new documents listed.
        window.location.assign(request.responseURL || form.action);
        return;
      }
      form.dataset.sending = "plain";
      form.submit();
    });
    request.addEventListener("error", function () {
      form.dataset.sending = "plain";
      form.submit();
    });
    request.send(new FormData(form));
  });
}());
