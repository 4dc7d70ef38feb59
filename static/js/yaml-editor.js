// Pod Studio's YAML editor: "Edit YAML" turns the YAML panel's read-only view into CodeMirror 6
// (static/vendor/codemirror/codemirror.bundle.js and its look, static/css/yaml-editor.css, both loaded on first
// use) holding the rendered YAML.
// "Save YAML" (Ctrl/Cmd+Enter) posts the text through htmx to the composition's YAML view, which imports
// it as the next revision and answers the whole workspace; a refusal lands in the editor's alert region
// and is marked in the editor at its line and column, the text kept. "Cancel" (Escape) closes the
// editor, asking first when the text was changed. Tab is not bound: it leaves the editor.
// Without JavaScript, or before the bundle loads, the page shows the read-only view only.
(function () {
  "use strict";

  const script = document.currentScript;
  const bundleUrl = script?.dataset.codemirror;
  const stylesheetUrl = script?.dataset.stylesheet;
  // django-csp's nonce for CodeMirror's <style> element (style-src allows no other inline style).
  const nonce = script?.nonce || "";

  let loading = null; // the bundle's import, once asked for
  let cm = null; // the bundle's module, once loaded
  let view = null; // the open editor
  let openedText = ""; // the YAML the editor opened with: anything else is an unsaved change
  let openedRevision = ""; // the revision the editor opened on: the save is an edit of that one
  let saving = false;

  const box = () => document.getElementById("yaml-editor");
  const errorRegion = () => document.getElementById("yaml-editor-error");
  const editButton = () => document.querySelector("[data-yaml-edit]");

  function changed() {
    return view !== null && view.state.doc.toString() !== openedText;
  }

  function loadStylesheet() {
    return new Promise((resolve, reject) => {
      const link = Object.assign(document.createElement("link"), { rel: "stylesheet", href: stylesheetUrl });
      link.addEventListener("load", resolve);
      link.addEventListener("error", () => { link.remove(); reject(new Error(`${stylesheetUrl} did not load`)); });
      document.head.append(link);
    });
  }

  function loadBundle() {
    if (!loading) {
      loading = Promise.all([import(bundleUrl), loadStylesheet()]).then(([module]) => {
        cm = module;
        return module;
      });
      loading.catch(() => { loading = null; }); // a later click tries again
    }
    return loading;
  }

  function extensions() {
    return [
      cm.lineNumbers(),
      cm.highlightActiveLineGutter(),
      cm.highlightSpecialChars(),
      cm.history(),
      cm.drawSelection(),
      cm.indentOnInput(),
      cm.bracketMatching(),
      cm.highlightActiveLine(),
      cm.highlightSelectionMatches(),
      cm.search({ top: true }),
      cm.yaml(),
      cm.syntaxHighlighting(cm.classHighlighter),
      cm.lintGutter(),
      cm.EditorState.tabSize.of(2),
      cm.indentUnit.of("  "),
      // Before the default keymap, which binds Mod-Enter to "insert a blank line".
      cm.Prec.high(cm.keymap.of([{ key: "Mod-Enter", run: () => { save(); return true; } }])),
      cm.keymap.of([
        ...cm.searchKeymap,
        ...cm.historyKeymap,
        ...cm.lintKeymap,
        ...cm.defaultKeymap,
        // Last: Escape closes the search panel or drops a selection first.
        { key: "Escape", run: () => { cancel(); return true; } },
      ]),
      cm.EditorView.contentAttributes.of({
        "aria-label": "YAML of the composition",
        "aria-describedby": "yaml-editor-keys yaml-editor-error",
      }),
      cm.EditorView.cspNonce.of(nonce),
    ];
  }

  async function open() {
    const container = box();
    const source = document.getElementById("yaml-source");
    const button = editButton();
    if (view || !container || !source) return;
    button.disabled = true;
    try {
      await loadBundle();
    } catch (error) {
      button.disabled = false;
      button.textContent = "Edit YAML (the editor did not load: try again)";
      console.error(error);
      return;
    }
    button.disabled = false;
    button.textContent = "Edit YAML";
    openedText = source.textContent;
    openedRevision = document.getElementById("saved-state")?.dataset.revision || "";
    errorRegion().replaceChildren();
    container.hidden = false;
    view = new cm.EditorView({
      doc: openedText,
      extensions: extensions(),
      parent: container.querySelector("[data-yaml-editor-host]"),
    });
    view.focus();
  }

  // The read-only view comes back (app.css shows it once the editor is hidden); focus returns to Edit YAML
  // unless the new workspace put it somewhere (its Undo button).
  function close() {
    if (!view) return;
    const focused = document.activeElement;
    const focusLost = !focused || focused === document.body || !focused.isConnected || box().contains(focused);
    view.destroy();
    view = null;
    openedText = "";
    errorRegion()?.replaceChildren();
    box().hidden = true;
    if (focusLost) editButton()?.focus();
  }

  function cancel() {
    if (!view) return;
    if (changed() && !window.confirm("Discard your changes to the YAML?")) {
      view.focus();
      return;
    }
    close();
  }

  function save() {
    if (!view || saving) return;
    const container = box();
    const button = container.querySelector("[data-yaml-save]");
    saving = true;
    button.disabled = true;
    const headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    // The revision the editor opened on, not the one the page shows now (another edit may have landed
    // since): a save over a newer revision is refused with a 409 instead of undoing it.
    if (openedRevision) headers["If-Match"] = `"${openedRevision}"`;
    htmx.ajax("POST", container.dataset.saveUrl, {
      source: container, // hx-encoding multipart/form-data: the text is not percent-encoded
      values: { yaml: view.state.doc.toString() },
      headers,
      target: "#workspace",
      swap: "outerHTML",
    }).finally(() => {
      saving = false;
      button.disabled = false;
    });
  }

  // A refusal's message is in the alert region; its line and column become the editor's diagnostic.
  function markProblem(problem) {
    if (!view) return;
    const doc = view.state.doc;
    const line = Number(problem.dataset.line);
    if (!line) {
      view.dispatch(cm.setDiagnostics(view.state, []));
      return;
    }
    const at = doc.line(Math.min(line, doc.lines));
    const column = Math.max(Number(problem.dataset.column) || 1, 1);
    const from = at.from + Math.min(column - 1, at.length);
    const word = view.state.wordAt(from);
    const to = word && word.from === from ? word.to : Math.min(from + 1, at.to);
    const diagnostic = { from, to, severity: "error", source: "YAML", message: problem.textContent.trim() };
    view.dispatch(cm.setDiagnostics(view.state, [diagnostic]), {
      selection: { anchor: from },
      effects: cm.EditorView.scrollIntoView(from, { y: "center" }),
    });
    view.focus();
  }

  function setUp(root) {
    if (!bundleUrl) return;
    const button = root.querySelector?.("[data-yaml-edit]") || (root.matches?.("[data-yaml-edit]") ? root : null);
    if (button) button.hidden = false;
    if (root.matches?.("[data-yaml-error]")) markProblem(root);
  }

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-yaml-edit]")) open();
    else if (event.target.closest("[data-yaml-save]")) save();
    else if (event.target.closest("[data-yaml-cancel]")) cancel();
  });

  // Escape on the editor's buttons cancels too (inside the editor, its keymap above decides).
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !view || event.defaultPrevented) return;
    const target = event.target;
    if (box()?.contains(target) && !view.dom.contains(target)) cancel();
  });

  // Sent by the server once the saved workspace is in (HX-Trigger-After-Settle).
  document.addEventListener("yaml-saved", close);

  window.addEventListener("beforeunload", (event) => {
    if (changed()) event.preventDefault(); // the browser asks before the edited text is lost
  });

  document.addEventListener("DOMContentLoaded", () => {
    setUp(document.body);
    htmx.onLoad(setUp);
  });
})();
