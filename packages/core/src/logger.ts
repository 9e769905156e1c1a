/**
 * @module The default structured logger (pino): JSON lines, pretty in a terminal; level from
 * FLOTILLA_LOG_LEVEL, format from FLOTILLA_LOG_FORMAT.
 */
import { createRequire } from "node:module";
import { type DestinationStream, type Logger, pino } from "pino";
import { FlotillaCodes, FlotillaError } from "./errors.js";
import { checkLogLevel } from "./log-levels.js";

export type LogFormat = "json" | "pretty";

export interface LoggerOptions {
  /** Default: FLOTILLA_LOG_LEVEL, else `info`. */
  level?: string;
  name?: string;
  /** Where the lines go (default stdout); a command whose stdout is its result logs to stderr. */
  stream?: "stdout" | "stderr" | DestinationStream;
  /** Default: FLOTILLA_LOG_FORMAT, else pretty when the stream is a terminal and JSON otherwise. */
  format?: LogFormat;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level =
    options.level === undefined
      ? checkLogLevel(process.env.FLOTILLA_LOG_LEVEL || "info", "FLOTILLA_LOG_LEVEL")
      : checkLogLevel(options.level, "the logger's level");
  const settings = { level, ...(options.name ? { name: options.name } : {}) };
  const given = typeof options.stream === "object" ? options.stream : undefined;
  const fd = options.stream === "stderr" ? 2 : 1;
  const tty = given === undefined ? (fd === 2 ? process.stderr : process.stdout).isTTY === true : isTTY(given);
  if ((options.format ?? formatFromEnv() ?? (tty ? "pretty" : "json")) === "pretty") {
    // Written synchronously: in the order of the calls, console.log's lines included, and none lost at exit.
    return pino(settings, prettyStream(given ?? pino.destination({ dest: fd, sync: true }), tty));
  }
  if (given !== undefined) return pino(settings, given);
  return fd === 2 ? pino(settings, pino.destination(2)) : pino(settings);
}

function formatFromEnv(): LogFormat | undefined {
  const format = process.env.FLOTILLA_LOG_FORMAT;
  if (!format) return undefined;
  if (format === "json" || format === "pretty") return format;
  throw FlotillaError.of(FlotillaCodes.CONFIG, `FLOTILLA_LOG_FORMAT is "${format}": json or pretty`, {
    details: { format },
  });
}

function isTTY(stream: DestinationStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}

/**
 * Each line pino writes, prettified in place and written on: no worker thread (a transport) that would
 * reorder lines against the process's other output and drop the last ones when it exits. Loaded only
 * when chosen, so JSON processes never load pino-pretty.
 */
function prettyStream(out: DestinationStream, tty: boolean): DestinationStream {
  const { prettyFactory, isColorSupported } = createRequire(import.meta.url)(
    "pino-pretty",
  ) as typeof import("pino-pretty");
  const prettify = prettyFactory({
    colorize: tty && isColorSupported,
    translateTime: "SYS:HH:MM:ss.l",
    ignore: "pid,hostname",
    singleLine: true,
  });
  return { write: (line: string) => out.write(prettify(line)) };
}
