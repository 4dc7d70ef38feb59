// Pod Studio composer: drag and drop (SortableJS) and copy. Everything else is htmx.
(function () {
  "use strict";

  function csrfHeaders() {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}");
  }

  function post(url, values) {
    return htmx.ajax("POST", url, {
      values,
      headers: csrfHeaders(),
      target: "#workspace",
      swap: "outerHTML",
    });
  }

  // Dropping a palette card asks the server to add that pattern; the clone is only a placeholder.
  function onDrop(event) {
    const zone = event.to;
    const pattern = event.item.dataset.pattern;
    const values = { pattern, lane: zone.dataset.lane };
    const cards = Array.from(zone.children).filter((el) => el.dataset.helperId && el !== event.item);
    const next = cards[event.newIndex];
    if (zone.hasAttribute("data-sortable") && next) {
      values.position = next.dataset.position;
    }
    event.item.remove();
    post(document.querySelector("[data-add-url]").dataset.addUrl, values);
  }

  function onReorder(event) {
    const zone = event.to;
    const order = Array.from(zone.querySelectorAll("[data-helper-id]"), (el) => el.dataset.helperId);
    post(zone.dataset.orderUrl, { order });
  }

  function setUp(root) {
    if (typeof Sortable === "undefined") return;
    root.querySelectorAll("[data-palette]").forEach((list) => {
      if (Sortable.get(list)) return;
      Sortable.create(list, {
        group: { name: "pod", pull: "clone", put: false },
        sort: false,
        filter: "button",
        preventOnFilter: false,
        // While dragging, the app card and the picture accept the pattern too.
        onStart: () => document.body.classList.add("dragging-pattern"),
        onEnd: () => document.body.classList.remove("dragging-pattern"),
      });
    });
    root.querySelectorAll("[data-dropzone]").forEach((zone) => {
      if (Sortable.get(zone)) return;
      const sortable = zone.hasAttribute("data-sortable");
      Sortable.create(zone, {
        group: { name: "pod", pull: false, put: true },
        sort: sortable,
        handle: sortable ? ".card-head" : undefined,
        filter: "button, input, textarea, select, [data-placeholder]",
        preventOnFilter: false,
        onAdd: onDrop,
        onUpdate: onReorder,
      });
    });
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const source = document.querySelector(button.dataset.copy);
    navigator.clipboard.writeText(source.textContent).then(
      () => {
        button.textContent = "Copied";
        setTimeout(() => { button.textContent = "Copy"; }, 1500);
      },
      () => {
        button.textContent = "Copy failed: select the text";
      },
    );
  });

  // Every edit says which revision the page shows, so that an edit made on an old one (another tab or
  // person saved since) is refused with a 409 and a Reload button instead of undoing theirs. An edit that
  // says its own (the YAML editor: the revision it opened on) keeps it.
  document.addEventListener("htmx:configRequest", (event) => {
    const revision = document.getElementById("saved-state")?.dataset.revision;
    if (revision && event.detail.verb === "post" && !event.detail.headers["If-Match"]) {
      event.detail.headers["If-Match"] = `"${revision}"`;
    }
  });

  // A problem leads to the field at fault: open the panels around it and put the focus there (an input),
  // or on the first control of the card it names.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a.problem-link");
    const target = link && document.getElementById(link.dataset.field);
    if (!target) {
      return;
    }
    event.preventDefault();
    for (let panel = target.closest("details"); panel; panel = panel.parentElement.closest("details")) {
      panel.open = true;
    }
    const focusable = target.matches("input, select, textarea, button")
      ? target
      : target.closest(".card")?.querySelector("input:not([disabled]), select, textarea, button:not([disabled])");
    (focusable || target).focus();
    target.scrollIntoView({ block: "center" });
  });

  // On a narrow screen one part of the composer shows at a time: Compose, YAML, Picture or Problems.
  document.addEventListener("click", (event) => {
    const button = event.target.closest(".view-switch [data-view]");
    if (!button) return;
    document.querySelector(".composer").dataset.view = button.dataset.view;
    button.parentElement.querySelectorAll("[data-view]").forEach((other) => {
      other.setAttribute("aria-pressed", String(other === button));
    });
  });

  // The palette: find a pattern by its name or summary, or fold it away.
  document.addEventListener("input", (event) => {
    if (event.target.id !== "palette-search") return;
    const words = event.target.value.trim().toLowerCase();
    let shown = 0;
    document.querySelectorAll(".palette .pattern-card").forEach((card) => {
      const match = !words || card.textContent.toLowerCase().includes(words);
      card.hidden = !match;
      shown += match ? 1 : 0;
    });
    document.querySelectorAll(".palette section").forEach((section) => {
      section.hidden = !section.querySelector(".pattern-card:not([hidden])");
    });
    document.getElementById("palette-search-count").textContent = words ? `${shown} pattern${shown === 1 ? "" : "s"}` : "";
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest(".palette-collapse");
    if (!button) return;
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    button.textContent = open ? "Hide patterns" : "Show patterns";
    document.getElementById("palette-body").hidden = !open;
  });

  // An edit that re-renders the workspace (add, move, remove …) keeps the panels the user had open.
  let openPanels = null;
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target.id === "workspace") {
      openPanels = Array.from(event.detail.target.querySelectorAll("details[id][open]"), (panel) => panel.id);
    }
  });
  document.addEventListener("htmx:afterSettle", () => {
    if (!openPanels) return;
    openPanels.forEach((id) => {
      const panel = document.getElementById(id);
      if (panel) panel.open = true;
    });
    openPanels = null;
  });

  // A field's error message (the .field-error beside it, filled by an out-of-band swap) is part of the
  // field's description, and the field is marked invalid while it has one: a screen reader says both.
  function linkFieldErrors(root) {
    const errors = root.matches?.(".field-error") ? [root] : root.querySelectorAll?.(".field-error") || [];
    errors.forEach((error) => {
      const field = error.parentElement?.querySelector("input:not([type=hidden]), select, textarea");
      if (!field) return;
      const described = (field.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
      if (!described.includes(error.id)) field.setAttribute("aria-describedby", [...described, error.id].join(" "));
      if (error.textContent.trim()) field.setAttribute("aria-invalid", "true");
      else field.removeAttribute("aria-invalid");
    });
  }

  // htmx and Sortable are both deferred: wire the page once it is parsed, then every swapped-in fragment.
  document.addEventListener("DOMContentLoaded", () => {
    setUp(document.body);
    linkFieldErrors(document.body);
    htmx.onLoad(setUp);
    htmx.onLoad(linkFieldErrors);
  });
})();
