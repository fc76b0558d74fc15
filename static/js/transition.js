// The assessment form: the override reason is shown only when it is needed, that is when the
// unit is to advance although not every criterion is answered "met". Without JavaScript the
// field is always shown, and the server says when it is needed.
(function () {
  "use strict";

  function update(form) {
    var advance = form.querySelector("input[name=advance]");
    var override = form.querySelector("[data-override]");
    if (!advance || !override) return;
    var unmet = form.querySelectorAll("input[type=radio][name^=answer_]:checked:not([value=met])").length;
    var hasError = override.querySelector(".field-error") !== null;
    override.hidden = !hasError && !(advance.checked && unmet > 0);
  }

  function updateAll(root) {
    (root || document).querySelectorAll("form[data-assessment]").forEach(update);
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-assessment]");
    if (form) update(form);
  });
  document.addEventListener("DOMContentLoaded", function () { updateAll(document); });
  document.addEventListener("htmx:afterSettle", function () { updateAll(document); });
})();
