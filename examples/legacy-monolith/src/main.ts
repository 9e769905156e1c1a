/** @module Runs the legacy monolith alone: `PORT` (8081) and `LEGACY_DB` (.flotilla/legacy/reviews.db). */
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { startLegacyMonolith } from "./legacy-server.js";

const port = Number(process.env.PORT ?? 8081);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got "${process.env.PORT}"`);
  process.exit(2);
}
const dbFile = resolve(process.env.INIT_CWD ?? process.cwd(), process.env.LEGACY_DB ?? ".flotilla/legacy/reviews.db");
mkdirSync(dirname(dbFile), { recursive: true });
const legacy = await startLegacyMonolith({ dbFile, port, host: process.env.HOST ?? "127.0.0.1" });
console.log(`legacy monolith listening on ${legacy.url}`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void legacy.close().then(() => process.exit(0)));
}
