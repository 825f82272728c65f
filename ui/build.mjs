// Builds the Jobs page that jobmonitor serves at / (server/web/ui/assets): one minified script,
// one stylesheet, and the licence notices of everything bundled. The output depends on the
// sources and the locked packages alone (no time, no absolute path), so a rebuild on another
// machine gives the same bytes: `.ci/run` rebuilds into a scratch folder and compares.
//
//   node build.mjs [OUTDIR]   (default: ../server/web/ui/assets)
import { build } from "esbuild";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";

const here = new URL(".", import.meta.url).pathname;
const out = resolve(process.argv[2] ?? join(here, "../server/web/ui/assets"));
mkdirSync(out, { recursive: true });

const result = await build({
  absWorkingDir: here,
  entryPoints: { app: "src/main.tsx" },
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2022"],
  outdir: out,
  define: { "process.env.NODE_ENV": '"production"', __DEV__: "false" },
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
});

// The packages whose code is in the bundle, with their licence texts.
const packages = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g);
  if (!match) continue;
  const last = match[match.length - 1];
  packages.add(input.slice(0, input.lastIndexOf(last) + last.length));
}
const notices = [
  "Third-party software in app.js, built from ui/",
  "(package.json and package-lock.json there pin every version).",
  "",
];
for (const dir of [...packages].sort()) {
  const path = join(here, dir);
  const manifest = JSON.parse(readFileSync(join(path, "package.json"), "utf8"));
  const licenceFile = readdirSync(path).find((name) => /^(licen[cs]e|copying)/i.test(name));
  notices.push("=".repeat(78));
  notices.push(`${manifest.name} ${manifest.version} (${manifest.license ?? "see below"})`);
  notices.push("");
  if (licenceFile && existsSync(join(path, licenceFile))) {
    notices.push(readFileSync(join(path, licenceFile), "utf8").trim());
  } else {
    notices.push(`No licence file in the package; its package.json says: ${manifest.license}`);
  }
  notices.push("");
}
writeFileSync(join(out, "THIRD_PARTY_NOTICES.txt"), notices.join("\n") + "\n");

const sizes = ["app.js", "app.css"].map((name) => {
  const bytes = readFileSync(join(out, name));
  return `${name} ${(bytes.length / 1024).toFixed(1)} KB (${(gzipSync(bytes, { level: 9 }).length / 1024).toFixed(1)} KB gzipped)`;
});
console.log(`built ${out}: ${packages.size} packages bundled; ${sizes.join(", ")}`);
