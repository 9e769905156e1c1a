/** @module `flotilla ps`: a running supervisor's status, as the live view draws it or as JSON. */
import { resolve } from "node:path";
import { callSupervisor, renderStatus, type SupervisorStatus } from "@flotilla/supervisor";
import { parseOptions, UsageError } from "../options.js";
import { PS_USAGE } from "../usage.js";
import { UP_DATA_DIR } from "./up.js";

export async function ps(args: string[]): Promise<void> {
  const { values, positionals } = parseOptions(args, {
    json: { type: "boolean" },
    "data-dir": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write(PS_USAGE);
    return;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const status = (await callSupervisor(
    resolve(values["data-dir"] ?? UP_DATA_DIR),
    "GET",
    "/status",
  )) as SupervisorStatus;
  process.stdout.write(
    values.json ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status, process.stdout.columns || 120),
  );
}
