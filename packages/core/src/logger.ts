/** @module The default structured logger (pino); level from FLOTILLA_LOG_LEVEL. */
import { type Logger, pino } from "pino";

export interface LoggerOptions {
  level?: string;
  name?: string;
  /** Where the JSON lines go (default stdout); a command whose stdout is its result logs to stderr. */
  stream?: "stdout" | "stderr";
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const settings = {
    level: options.level ?? process.env.FLOTILLA_LOG_LEVEL ?? "info",
    ...(options.name ? { name: options.name } : {}),
  };
  return options.stream === "stderr" ? pino(settings, pino.destination(2)) : pino(settings);
}
