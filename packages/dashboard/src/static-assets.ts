/** @module The dashboard's files, read once into memory: its own from `public/`, Preact with htm and uPlot from their packages. */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** One file as served: its bytes, type and entity tag. */
export interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/**
 * Files a package brings besides the page's own, by the name they are served under: each a single ES
 * module or style sheet (see docs/dependencies.md), resolved from the package's folder.
 */
const VENDORED: readonly { name: string; pkg: string; file: string }[] = [
  // Preact 10, its hooks and htm in one ES module of 13 KB: no import map, no build step.
  { name: "preact-htm.js", pkg: "htm", file: "preact/standalone.module.js" },
  // uPlot's charts (canvas) for the Metrics view: one ES module and its style sheet, no dependencies.
  { name: "uplot.js", pkg: "uplot", file: "dist/uPlot.esm.js" },
  { name: "uplot.css", pkg: "uplot", file: "dist/uPlot.min.css" },
];

/**
 * No script or style from anywhere but the dashboard itself, nothing inline, no frames, forms or plugins:
 * the page can only talk to the gateway that served it.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Reads every asset; a missing file is a broken package and fails the gateway's start. */
export function loadAssets(): ReadonlyMap<string, Asset> {
  const publicDir = join(dirname(fileURLToPath(import.meta.url)), "..", "public");
  // The page's own files: every file of public/ whose type is served, by its name (`/_flotilla/assets/<name>`).
  const own = readdirSync(publicDir).filter((name) => TYPES[extension(name)] !== undefined);
  const files: [string, string][] = [
    ...own.map((name): [string, string] => [name, join(publicDir, name)]),
    ...VENDORED.map(({ name, pkg, file }): [string, string] => [name, join(packageDir(pkg), file)]),
  ];
  return new Map(files.map(([name, path]) => [name, asset(name, readFileSync(path))]));
}

/** A package's folder: up from its main module to its package.json (exports maps may not resolve the file itself). */
function packageDir(pkg: string): string {
  let dir = dirname(createRequire(import.meta.url).resolve(pkg));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

function extension(name: string): string {
  return name.slice(name.lastIndexOf("."));
}

function asset(name: string, body: Buffer): Asset {
  const type = TYPES[extension(name)] ?? "application/octet-stream";
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
  return { body, contentType: type, etag };
}
