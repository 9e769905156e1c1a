/**
 * @module The proxy benchmark's upstream: the shop's legacy monolith (plain node:http, SQLite), alone in
 * its process, with its database in the given directory.
 *
 * `npx tsx bench/proxy/legacy-worker.ts --db /tmp/reviews.db`
 */
import { parseArgs } from "node:util";
import { startLegacyMonolith } from "../../examples/legacy-monolith/src/index.js";
import { announceReady } from "../edge/processes.js";

const { values } = parseArgs({ options: { db: { type: "string" }, port: { type: "string", default: "0" } } });
if (values.db === undefined) throw new Error("--db FILE is required");

const legacy = await startLegacyMonolith({ dbFile: values.db, port: Number(values.port) });
process.on("SIGTERM", () => {
  legacy.close().then(() => process.exit(0));
});
announceReady({ url: legacy.url });
