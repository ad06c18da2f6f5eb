/* The Documents tab's upload (templates/documents/household.html): shows the progress of the
   sending. Without it the form posts as usual; with it the same POST goes through
   XMLHttpRequest to follow its upload progress, with the X-Ancrage-Upload header. When the
   upload is recorded the server answers 201 with the tab's address in Location instead of
   a redirect (which XMLHttpRequest would follow itself, reading the "ajouté" message away):
   the script opens that address and the message is shown. A 200 is a page the server led
   to (the same upload already recorded): it is opened too. When the server refuses the
   files (400, 413), the form is posted again the ordinary way so that the browser shows the
   refusal (nothing was stored the first time). */
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
    request.setRequestHeader("X-Ancrage-Upload", "1");
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
      var location = request.getResponseHeader("Location");
      if (request.status === 201 && location) {
        window.location.assign(location);
        return;
      }
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
