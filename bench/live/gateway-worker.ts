/**
 * @module The Flotilla server of the live fan-out benchmark: `broadcastApp` run with `runApp`, as
 * `flotilla start` runs it (in-process transport with its event journal, tracing and metrics on), in a
 * process of its own so that its memory is the gateway's. Started by the suite (`startChild`), whose
 * requests (`memory`, the profiler's) it answers over IPC.
 */
import { parseArgs } from "node:util";
import { runApp } from "@flotilla/app";
import { broadcastApp } from "./broadcast-app.js";
import { LIVE_AUDIENCES, type LiveAudience } from "./cases.js";
import { serveRequests } from "./children.js";
import { memoryAfterGc } from "./memory.js";
import { profilerRequests } from "./profile-report.js";

const { values } = parseArgs({
  options: {
    audience: { type: "string", default: "everyone" },
    "max-connections": { type: "string", default: "10000" },
    jwk: { type: "string" },
    "data-dir": { type: "string" },
  },
});
const audience = values.audience as LiveAudience;
if (!LIVE_AUDIENCES.includes(audience)) throw new Error(`unknown audience ${values.audience}`);
if (values.jwk === undefined || values["data-dir"] === undefined) throw new Error("--jwk and --data-dir are required");

const app = broadcastApp({ audience, jwk: JSON.parse(values.jwk), maxConnections: Number(values["max-connections"]) });
const running = await runApp(app, { gatewayPort: 0, listenHost: "127.0.0.1", dataDir: values["data-dir"] });

process.once("SIGTERM", () => {
  running.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error("stop failed", err);
      process.exit(1);
    },
  );
});

serveRequests({
  ready: () => ({ url: running.url }),
  memory: () => memoryAfterGc(),
  ...profilerRequests,
});
