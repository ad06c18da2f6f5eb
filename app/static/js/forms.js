/* Forms of the household file: loaded by templates/households/_file_layout.html (CSP 'self',
   no inline code). Everything works without it; it only adds two things.

   1. Unsaved input: a POST form marked data-warn-unsaved (or inside an element so marked)
      becomes "dirty" at the first input; while a form is dirty, leaving the page (a link,
      another button, closing the tab) asks for confirmation through "beforeunload".
      Submitting the form clears its mark. A form shown again with errors starts dirty:
      what was typed in it has not been saved yet.
   2. Focus: in an element marked data-focus-first, the first field (the first one in error
      when there is one) receives the focus on load, unless a field has autofocus, the
      address points at a part of the page, or something is already focused. */
(function () {
  "use strict";

  var dirtyForms = [];

  function warn(event) {
    event.preventDefault();
    event.returnValue = ""; // older browsers show the dialog only when this is set
    return "";
  }

  function update() {
    if (dirtyForms.length) {
      window.addEventListener("beforeunload", warn);
    } else {
      window.removeEventListener("beforeunload", warn);
    }
  }

  function markDirty(form) {
    if (dirtyForms.indexOf(form) === -1) {
      dirtyForms.push(form);
      update();
    }
  }

  function markSaved(form) {
    dirtyForms = dirtyForms.filter(function (other) { return other !== form; });
    update();
  }

  function isPost(form) {
    return (form.getAttribute("method") || "get").toLowerCase() === "post";
  }

  var tracked = document.querySelectorAll("form[data-warn-unsaved], [data-warn-unsaved] form");
  Array.prototype.forEach.call(tracked, function (form) {
    if (!isPost(form)) {
      return;
    }
    var dirty = function () { markDirty(form); };
    form.addEventListener("input", dirty);
    form.addEventListener("change", dirty);
    form.addEventListener("submit", function (event) {
      if (!event.defaultPrevented) {
        markSaved(form);
      }
    });
    if (form.querySelector(".field--error, [aria-invalid='true']")) {
      markDirty(form);
    }
  });

  var FIELDS = "input:not([type=hidden]):not([disabled]), select:not([disabled]), " +
    "textarea:not([disabled])";

  function firstField(container) {
    var errors = container.querySelectorAll(".field--error");
    for (var i = 0; i < errors.length; i += 1) {
      var inError = errors[i].querySelector(FIELDS);
      if (inError) {
        return inError;
      }
    }
    var forms = container.querySelectorAll("form");
    for (var j = 0; j < forms.length; j += 1) {
      if (isPost(forms[j])) {
        var field = forms[j].querySelector(FIELDS);
        if (field) {
          return field;
        }
      }
    }
    return null;
  }

  var container = document.querySelector("[data-focus-first]");
  var focused = document.activeElement;
  if (container && !window.location.hash && !container.querySelector("[autofocus]") &&
      (!focused || focused === document.body)) {
    var target = firstField(container);
    if (target) {
      target.focus();
    }
  }
}());
