/** @module The default structured logger (pino); level from FLOTILLA_LOG_LEVEL. */
import { type DestinationStream, type Logger, pino } from "pino";
import { checkLogLevel } from "./log-levels.js";

export interface LoggerOptions {
  /** Default: FLOTILLA_LOG_LEVEL, else `info`. */
  level?: string;
  name?: string;
  /** Where the JSON lines go (default stdout); a command whose stdout is its result logs to stderr. */
  stream?: "stdout" | "stderr" | DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level =
    options.level === undefined
      ? checkLogLevel(process.env.FLOTILLA_LOG_LEVEL || "info", "FLOTILLA_LOG_LEVEL")
      : checkLogLevel(options.level, "the logger's level");
  const settings = { level, ...(options.name ? { name: options.name } : {}) };
  if (typeof options.stream === "object") return pino(settings, options.stream);
  return options.stream === "stderr" ? pino(settings, pino.destination(2)) : pino(settings);
}
