// ESLint flat config for Pod Studio's own browser scripts (static/js). `make lint` runs it.
// The scripts are classic scripts (loaded with `defer`, no modules, no bundler), written in ES2020.
import js from "@eslint/js";
import globals from "globals";

export default [
  // Not ours, or not source: vendored libraries, collected static files, installed packages.
  { ignores: ["static/vendor/", "staticfiles/", ".venv/", "node_modules/", "test-artifacts/"] },
  {
    files: ["static/js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2020,
      sourceType: "script",
      globals: {
        ...globals.browser,
        // From vendored or shipped libraries, loaded by earlier deferred <script>s.
        htmx: "readonly", // django-htmx's htmx 2
        Sortable: "readonly", // static/vendor/sortablejs
      },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      ...js.configs.recommended.rules,
      "no-var": "error",
      "prefer-const": "error",
      eqeqeq: ["error", "always"],
      "no-implicit-globals": "error",
      strict: ["error", "function"],
      "prefer-arrow-callback": "error",
      "prefer-template": "error",
      "object-shorthand": ["error", "always"],
    },
  },
];
