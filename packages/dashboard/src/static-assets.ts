/** @module The dashboard's files, read once into memory: its own from `public/`, Preact with htm from the htm package. */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
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

/** The page's own files, by the name they are served under (`/_flotilla/assets/<name>`; the page at `/_flotilla`). */
const OWN = ["index.html", "app.js", "api.js", "topology-view.js", "topology-graph.js", "style.css"] as const;

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
  // The htm package's folder (its main module is `dist/htm.js`): its exports map no longer resolves the file itself.
  const htmDir = dirname(dirname(createRequire(import.meta.url).resolve("htm")));
  const files: [string, string][] = [
    ...OWN.map((name): [string, string] => [name, join(publicDir, name)]),
    // Preact 10, its hooks and htm in one ES module of 13 KB: no import map, no build step.
    ["preact-htm.js", join(htmDir, "preact", "standalone.module.js")],
  ];
  return new Map(files.map(([name, path]) => [name, asset(name, readFileSync(path))]));
}

function asset(name: string, body: Buffer): Asset {
  const type = TYPES[name.slice(name.lastIndexOf("."))] ?? "application/octet-stream";
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
  return { body, contentType: type, etag };
}
