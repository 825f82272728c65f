// Builds the GraphiQL bundle that jobmonitor serves (server/web/playground/assets): one
// minified script, one stylesheet, and the licence notices of everything bundled.
import { build } from "esbuild";
import { readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";

const out = new URL("../../server/web/playground/assets/", import.meta.url).pathname;

const result = await build({
  entryPoints: { graphiql: "src/index.jsx" },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  outdir: out,
  define: { "process.env.NODE_ENV": '"production"', global: "globalThis" },
  loader: { ".woff2": "dataurl", ".woff": "dataurl", ".ttf": "dataurl" },
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
});

// The packages whose code is in the bundle, with their licence texts.
const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g);
  if (!match) continue;
  const last = match[match.length - 1];
  const dir = input.slice(0, input.lastIndexOf(last) + last.length);
  packages.set(dir, true);
}
const notices = [
  "Third-party software in graphiql.js and graphiql.css, built from web/graphiql",
  "(package.json and package-lock.json there pin every version).",
  "",
];
for (const dir of [...packages.keys()].sort()) {
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const licenceFile = readdirSync(dir).find((name) => /^(licen[cs]e|copying)/i.test(name));
  notices.push("=".repeat(78));
  notices.push(`${manifest.name} ${manifest.version} (${manifest.license ?? "see below"})`);
  notices.push("");
  if (licenceFile && existsSync(join(dir, licenceFile))) {
    notices.push(readFileSync(join(dir, licenceFile), "utf8").trim());
  } else {
    notices.push(`No licence file in the package; its package.json says: ${manifest.license}`);
  }
  notices.push("");
}
writeFileSync(join(out, "THIRD_PARTY_NOTICES.txt"), notices.join("\n") + "\n");
console.log(`built ${out}: ${packages.size} packages bundled`);
