/** @module `flotilla scale UNIT=N`: sets units' wanted instance counts on a running supervisor. */
import { resolve } from "node:path";
import { callSupervisor, type ScaleDecision } from "@flotilla/supervisor";
import { parseOptions, UsageError } from "../options.js";
import { SCALE_USAGE } from "../usage.js";
import { instanceCount, UP_DATA_DIR } from "./up.js";

export async function scale(args: string[]): Promise<void> {
  const { values, positionals } = parseOptions(args, {
    "data-dir": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write(SCALE_USAGE);
    return;
  }
  if (positionals.length === 0) throw new UsageError("name at least one UNIT=N");
  const wanted = positionals.map((arg) => {
    const [unit, n] = arg.split("=");
    if (!unit || n === undefined) throw new UsageError(`"${arg}" is not UNIT=N`);
    return { unit, instances: instanceCount(n, unit) };
  });
  const dataDir = resolve(values["data-dir"] ?? UP_DATA_DIR);
  for (const { unit, instances } of wanted) {
    const path = `/units/${encodeURIComponent(unit)}/scale`;
    const d = (await callSupervisor(dataDir, "POST", path, { instances, reason: "flotilla scale" })) as ScaleDecision;
    console.log(d.from === d.to ? `${unit}: already ${d.to}` : `${unit}: ${d.from} → ${d.to}`);
  }
}
