// The CodeMirror 6 pieces Pod Studio's YAML editor (static/js/yaml-editor.js) uses, bundled into
// codemirror.bundle.js by `make codemirror` (`npm run build:codemirror`, esbuild). Versions are pinned
// in package.json and package-lock.json; the licences are in LICENSE beside this file.
// Tab is deliberately not bound (no indentWithTab): Tab and Shift-Tab leave the editor, as on any field.
export { EditorState, Prec } from "@codemirror/state";
export {
  EditorView,
  drawSelection,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
} from "@codemirror/view";
export { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
export { bracketMatching, indentOnInput, indentUnit, syntaxHighlighting } from "@codemirror/language";
export { yaml } from "@codemirror/lang-yaml";
export { lintGutter, lintKeymap, setDiagnostics } from "@codemirror/lint";
export { highlightSelectionMatches, search, searchKeymap } from "@codemirror/search";
// Highlighting by class names (tok-propertyName, tok-string …), styled in static/css/app.css.
export { classHighlighter } from "@lezer/highlight";
