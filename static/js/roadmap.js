// Roadmap board: drag an item to another place or horizon. It posts the same move the buttons post
// (horizon and place) through htmx, which swaps the board back in; keyboards use the buttons.
(function () {
  "use strict";

  var dragged = null;

  function closest(node, selector) {
    var el = node && node.nodeType === 1 ? node : node && node.parentElement;
    return el ? el.closest(selector) : null;
  }

  function itemsOf(list) {
    // The column's items, without the one being dragged: the place is counted among these.
    return Array.prototype.filter.call(list.children, function (li) {
      return !li.contains(dragged);
    });
  }

  function dropPlace(column, y) {
    var list = column.querySelector("ol.roadmap-items");
    if (!list) return { index: 0, before: null, list: null };
    var items = itemsOf(list);
    for (var i = 0; i < items.length; i++) {
      var box = items[i].getBoundingClientRect();
      if (y < box.top + box.height / 2) return { index: i, before: items[i], list: list };
    }
    return { index: items.length, before: null, list: list };
  }

  function clearMarks() {
    document.querySelectorAll(".roadmap .drop-target, .roadmap .drop-before, .roadmap .drop-end")
      .forEach(function (el) {
        el.classList.remove("drop-target", "drop-before", "drop-end");
      });
  }

  function finish() {
    clearMarks();
    if (dragged) dragged.classList.remove("is-dragging");
    dragged = null;
  }

  document.addEventListener("dragstart", function (event) {
    var item = closest(event.target, ".roadmap-item[data-move-url]");
    if (!item) return;
    dragged = item;
    item.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.id);
  });

  document.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var column = closest(event.target, ".roadmap-column[data-horizon]");
    if (!column) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    clearMarks();
    column.classList.add("drop-target");
    var place = dropPlace(column, event.clientY);
    if (place.before) place.before.classList.add("drop-before");
    else if (place.list) place.list.classList.add("drop-end");
  });

  document.addEventListener("drop", function (event) {
    if (!dragged) return;
    var column = closest(event.target, ".roadmap-column[data-horizon]");
    if (!column) return;
    event.preventDefault();
    var item = dragged;
    var place = dropPlace(column, event.clientY);
    finish();
    if (!window.htmx) return;
    window.htmx.ajax("POST", item.dataset.moveUrl, {
      source: item,
      target: "#roadmap",
      swap: "outerHTML",
      values: { horizon: column.dataset.horizon, position: place.index }
    });
  });

  document.addEventListener("dragend", finish);
})();
