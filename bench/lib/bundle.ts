/** @module Bundling a benchmark worker with esbuild, so a CPU profile shows functions, not tsx's loader. */
import { spawnSync } from "node:child_process";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Packages left outside the bundle (resolved from the repository's node_modules, as in production). */
const EXTERNALS = [
  "@nats-io/*",
  "@opentelemetry/*",
  "better-sqlite3",
  "kysely",
  "moleculer",
  "nats",
  "pg",
  "pino",
  "prom-client",
  "zod",
];

/**
 * Bundles `bench/<path>.ts` into `dir/<name>.mjs`, next to a `node_modules` link to the repository's
 * so its externals resolve; returns the bundle's path.
 */
export function bundleWorker(path: string, dir: string): string {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const name = path.split("/").at(-1) as string;
  const out = join(dir, `${name}.mjs`);
  try {
    symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  } catch {
    // linked for another worker of the same run already
  }
  const build = spawnSync(
    join(root, "node_modules/.bin/esbuild"),
    [
      join(root, `bench/${path}.ts`),
      "--bundle",
      "--platform=node",
      "--format=esm",
      ...EXTERNALS.map((e) => `--external:${e}`),
      `--outfile=${out}`,
    ],
    { stdio: "inherit" },
  );
  if (build.status !== 0) throw new Error("esbuild failed");
  return out;
}

/** A percentage, right-aligned for profile tables. */
export function percent(n: number): string {
  return `${n.toFixed(1).padStart(5)}%`;
}
