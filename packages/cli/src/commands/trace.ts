/** @module `flotilla trace ID`: one trace as a waterfall in the terminal. */
import { FlotillaError } from "@flotilla/core";
import { isTraceId, renderWaterfall } from "@flotilla/telemetry";
import { parseOptions, positiveIntOption, UsageError } from "../options.js";
import { openTraceSource, SOURCE_OPTIONS } from "../trace-source.js";
import { TRACE_USAGE } from "../usage.js";

export async function traceCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseOptions(args, { ...SOURCE_OPTIONS, width: { type: "string" } });
  if (values.help) {
    process.stdout.write(TRACE_USAGE);
    return;
  }
  const [given, ...extra] = positionals;
  if (given === undefined) throw new UsageError("trace needs a trace id (see flotilla traces)");
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const traceId = given.toLowerCase();
  if (!isTraceId(traceId)) throw new UsageError(`"${given}" is not a trace id (32 hex characters)`);
  const width = values.width === undefined ? process.stdout.columns || 100 : positiveIntOption(values.width, "--width");

  const source = openTraceSource(values);
  try {
    const spans = await source.trace(traceId);
    if (spans.length === 0) throw new FlotillaError("NOT_FOUND", `no trace ${traceId} in ${source.where}`);
    if (values.json) {
      console.log(JSON.stringify(spans, null, 2));
      return;
    }
    console.log(renderWaterfall(spans, { width, color: useColor() }));
  } finally {
    await source.close();
  }
}

/** Colours for a terminal, unless NO_COLOR (https://no-color.org) is set to something. */
function useColor(): boolean {
  return process.stdout.isTTY === true && !process.env.NO_COLOR;
}
