/** @module The default structured logger (pino); level from FLOTILLA_LOG_LEVEL. */
import { type Logger, pino } from "pino";

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    level: options.level ?? process.env.FLOTILLA_LOG_LEVEL ?? "info",
    ...(options.name ? { name: options.name } : {}),
  });
}
