/** @module What the replay benchmark's workers share: their arguments, output and the measuring wrapper. */
import { parseArgs } from "node:util";
import { createLogger } from "@flotilla/core";

export const { values } = parseArgs({
  options: {
    role: { type: "string" },
    "data-dir": { type: "string" },
    events: { type: "string", default: "100000" },
    batch: { type: "string" },
    rate: { type: "string", default: "200" },
  },
});
export const dataDir = values["data-dir"] as string;
export const send = (msg: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(msg)}\n`);
const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
export const TYPE = "orders.OrderPlaced";

/** Runs `run` (which returns the events it replayed) and prints `{ events, seconds, cpuUs }`. */
export async function measured(run: () => Promise<number>): Promise<void> {
  const cpu0 = cpuUs();
  const t0 = performance.now();
  const events = await run();
  send({ events, seconds: (performance.now() - t0) / 1000, cpuUs: cpuUs() - cpu0 });
}

export function quiet() {
  return createLogger({ level: "warn", name: "bench", stream: "stderr" });
}
