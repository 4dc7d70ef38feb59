// Builds codemirror.bundle.js (one ES module) from entry.mjs with esbuild, and LICENSE from the packages
// that went into it: each one's name, version, licence and LICENSE text. Run it with `make codemirror`
// (or `npm run build:codemirror`) after changing entry.mjs or a pinned version in package.json; commit
// both files. The output depends only on the pinned packages: the same versions build the same bytes.
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..", "..");
const bundle = join(here, "codemirror.bundle.js");

const result = await build({
  absWorkingDir: root,
  entryPoints: [join(here, "entry.mjs")],
  outfile: bundle,
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: true,
  legalComments: "none", // the licences are in LICENSE, whole
  charset: "utf8",
  metafile: true,
  logLevel: "warning",
  banner: {
    js: "/* CodeMirror 6 for Pod Studio (static/vendor/codemirror/build.mjs): the packages, their versions and MIT licences are in LICENSE beside this file. */",
  },
});

// Only the packages with code in the bundle (tree shaking leaves the rest out).
const packages = new Set();
for (const output of Object.values(result.metafile.outputs)) {
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const at = input.lastIndexOf("node_modules/");
    if (at < 0 || bytesInOutput === 0) continue;
    const parts = input.slice(at + "node_modules/".length).split("/");
    packages.add(parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]);
  }
}

const sections = [...packages].sort().map((name) => {
  const folder = join(root, "node_modules", name);
  const meta = JSON.parse(readFileSync(join(folder, "package.json"), "utf8"));
  const licence = readFileSync(join(folder, "LICENSE"), "utf8").trim();
  return { name, version: meta.version, licence: meta.license, text: licence };
});
const header = [
  "codemirror.bundle.js holds code of the following npm packages, each under the licence below it.",
  "",
  ...sections.map((s) => `  ${s.name} ${s.version} (${s.licence})`),
  "",
].join("\n");
const body = sections.map((s) => `${"=".repeat(72)}\n${s.name} ${s.version} (${s.licence})\n${"=".repeat(72)}\n\n${s.text}\n`);
writeFileSync(join(here, "LICENSE"), `${header}\n${body.join("\n")}`);

const bytes = statSync(bundle).size;
const gzipped = gzipSync(readFileSync(bundle), { level: 9 }).length;
console.log(`${relative(root, bundle)}: ${bytes.toLocaleString("en")} bytes (${gzipped.toLocaleString("en")} gzipped), ${sections.length} packages`);
