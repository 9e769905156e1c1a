/** @module `flotilla traces`: the recent (or slowest) traces, as a table or JSON. */
import { formatDuration, type TraceQuery, type TraceSummary } from "@flotilla/telemetry";
import { parseOptions, positiveIntOption, UsageError } from "../options.js";
import { table } from "../table.js";
import { openTraceSource, SOURCE_OPTIONS } from "../trace-source.js";
import { TRACES_USAGE } from "../usage.js";

export async function tracesCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseOptions(args, {
    ...SOURCE_OPTIONS,
    slow: { type: "boolean" },
    errors: { type: "boolean" },
    service: { type: "string" },
    route: { type: "string" },
    "min-ms": { type: "string" },
    limit: { type: "string" },
  });
  if (values.help) {
    process.stdout.write(TRACES_USAGE);
    return;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const minMs = values["min-ms"];
  if (minMs !== undefined && !/^\d+(\.\d+)?$/.test(minMs)) {
    throw new UsageError(`--min-ms must be a number of milliseconds, got "${minMs}"`);
  }
  const query: TraceQuery = {
    order: values.slow ? "slowest" : "recent",
    ...(values.errors ? { status: "error" as const } : {}),
    ...(values.service === undefined ? {} : { service: values.service }),
    ...(values.route === undefined ? {} : { route: values.route }),
    ...(minMs === undefined ? {} : { minDurationMs: Number(minMs) }),
    limit: values.limit === undefined ? 20 : positiveIntOption(values.limit, "--limit"),
  };

  const source = openTraceSource(values);
  try {
    const found = await source.traces(query);
    if (values.json) {
      console.log(JSON.stringify(found, null, 2));
      return;
    }
    if (found.length === 0) {
      console.log(`no traces found in ${source.where}`);
      return;
    }
    console.log(table(HEADER, found.map(row), RIGHT));
    console.log(`${found.length} trace${found.length === 1 ? "" : "s"}${values.slow ? ", slowest first" : ""}`);
  } finally {
    await source.close();
  }
}

const HEADER = ["TRACE ID", "START", "DURATION", "SPANS", "ERRORS", "NAME", "SERVICES"];
const RIGHT = new Set([2, 3, 4]);

function row(t: TraceSummary): string[] {
  return [
    t.traceId,
    new Date(t.startMs).toISOString(),
    formatDuration(t.durationMs),
    String(t.spans),
    String(t.errors),
    t.name,
    t.services.join(","),
  ];
}
