// Behaviour that would otherwise need inline scripts (the CSP forbids them).
(function () {
  "use strict";

  // A table row with data-href opens its detail page on click (links inside keep working).
  document.addEventListener("click", function (event) {
    var row = event.target.closest("tr[data-href]");
    if (!row || event.target.closest("a, button, input, select, label, form")) return;
    if (event.metaKey || event.ctrlKey) {
      window.open(row.dataset.href, "_blank");
    } else {
      window.location.assign(row.dataset.href);
    }
  });

  // Forms and buttons with data-confirm ask once before a destructive action.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.dataset ? form.dataset.confirm : null;
    if (message && !window.confirm(message)) event.preventDefault();
  }, true);

  // Filter forms with data-autosubmit submit on change (htmx swaps the list).
  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-autosubmit]");
    if (form && window.htmx) window.htmx.trigger(form, "submit");
  });
})();
