/** @module `flotilla restart UNIT`: a rolling restart of a unit on a running supervisor. */
import { resolve } from "node:path";
import { callSupervisor } from "@flotilla/supervisor";
import { parseOptions, UsageError } from "../options.js";
import { RESTART_USAGE } from "../usage.js";
import { UP_DATA_DIR } from "./up.js";

export async function restart(args: string[]): Promise<void> {
  const { values, positionals } = parseOptions(args, {
    "data-dir": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write(RESTART_USAGE);
    return;
  }
  const [unit, extra] = positionals;
  if (unit === undefined) throw new UsageError("name the unit to restart");
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  await callSupervisor(
    resolve(values["data-dir"] ?? UP_DATA_DIR),
    "POST",
    `/units/${encodeURIComponent(unit)}/restart`,
  );
  console.log(`${unit}: restarted`);
}
