// Pod Studio composer: drag and drop (SortableJS) and copy. Everything else is htmx.
(function () {
  "use strict";

  function csrfHeaders() {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}");
  }

  function post(url, values) {
    return htmx.ajax("POST", url, {
      values: values,
      headers: csrfHeaders(),
      target: "#workspace",
      swap: "outerHTML",
    });
  }

  // Dropping a palette card asks the server to add that pattern; the clone is only a placeholder.
  function onDrop(event) {
    var zone = event.to;
    var pattern = event.item.dataset.pattern;
    var values = { pattern: pattern };
    var cards = Array.prototype.filter.call(zone.children, function (el) {
      return el.dataset.helperId && el !== event.item;
    });
    var next = cards[event.newIndex];
    if (zone.hasAttribute("data-sortable") && next) {
      values.position = next.dataset.position;
    }
    event.item.remove();
    var canvas = zone.closest("[data-add-url]");
    post(canvas.dataset.addUrl, values);
  }

  function onReorder(event) {
    var zone = event.to;
    var order = Array.prototype.map.call(zone.querySelectorAll("[data-helper-id]"), function (el) {
      return el.dataset.helperId;
    });
    post(zone.dataset.orderUrl, { order: order });
  }

  function setUp(root) {
    if (typeof Sortable === "undefined") return;
    root.querySelectorAll("[data-palette]").forEach(function (list) {
      if (Sortable.get(list)) return;
      Sortable.create(list, {
        group: { name: "pod", pull: "clone", put: false },
        sort: false,
        filter: "button",
        preventOnFilter: false,
      });
    });
    root.querySelectorAll("[data-dropzone]").forEach(function (zone) {
      if (Sortable.get(zone)) return;
      Sortable.create(zone, {
        group: { name: "pod", pull: false, put: true },
        sort: zone.hasAttribute("data-sortable"),
        handle: zone.hasAttribute("data-sortable") ? ".card-head" : undefined,
        filter: "button, input, textarea, select, [data-placeholder]",
        preventOnFilter: false,
        onAdd: onDrop,
        onUpdate: onReorder,
      });
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.dataset.copy);
    navigator.clipboard.writeText(source.textContent).then(function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = "Copy"; }, 1500);
    }, function () {
      button.textContent = "Copy failed: select the text";
    });
  });

  // htmx and Sortable are both deferred: wire the page once it is parsed, then every swapped-in fragment.
  document.addEventListener("DOMContentLoaded", function () {
    setUp(document.body);
    htmx.onLoad(setUp);
  });
})();
