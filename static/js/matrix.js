// The allocation matrix: keyboard comfort for editing cells in place (htmx does the saving).
// Enter saves a cell (the form submits), Tab saves it on change and moves on (htmx triggers on
// change), Escape puts the saved value back. A refusal that asks for a reason focuses that field.
(function () {
  "use strict";

  function cellInput(target) {
    return target && target.classList && target.classList.contains("cell-input") ? target : null;
  }

  // Select the whole value on focus, so typing replaces it.
  document.addEventListener("focusin", function (event) {
    var input = cellInput(event.target);
    if (input) input.select();
  });

  document.addEventListener("keydown", function (event) {
    var input = cellInput(event.target);
    if (!input || event.key !== "Escape") return;
    input.value = input.dataset.saved || "";
    input.select();
    event.preventDefault();
  });

  // After a cell comes back refused for want of a reason, put the cursor in the reason field.
  document.addEventListener("htmx:afterSettle", function (event) {
    var cell = event.target;
    if (!cell || !cell.classList || !cell.classList.contains("ask-reason")) return;
    var reason = cell.querySelector(".cell-reason");
    if (reason) reason.focus();
  });
})();
