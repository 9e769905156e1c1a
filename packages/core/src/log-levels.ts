/** @module Log levels: the process's (FLOTILLA_LOG_LEVEL) and each service's own, all checked at start. */
import { FlotillaCodes, FlotillaError } from "./errors.js";

/** Levels by service name, e.g. `{ orders: "debug", gateway: "warn" }` (the gateway's lines count as `gateway`). */
export type LogLevels = Readonly<Record<string, string>>;

const LEVELS: readonly string[] = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];
const PREFIX = "FLOTILLA_LOG_LEVEL_";

/** The level given, if pino knows it; a CONFIG error naming where it came from otherwise. */
export function checkLogLevel(level: string, source: string): string {
  if (LEVELS.includes(level)) return level;
  throw FlotillaError.of(FlotillaCodes.CONFIG, `${source} is "${level}", not a log level (${LEVELS.join(", ")})`, {
    details: { source, level },
  });
}

/** `orders` → FLOTILLA_LOG_LEVEL_ORDERS, `order-history` → FLOTILLA_LOG_LEVEL_ORDER_HISTORY. */
function logLevelEnvVar(service: string): string {
  return PREFIX + service.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}

/**
 * Each service's own level, if it has one: its `logLevels` entry, else FLOTILLA_LOG_LEVEL_<SERVICE>,
 * else its entry in FLOTILLA_LOG_LEVELS (`orders=debug,payments=warn`); undefined leaves the process's.
 * Every level is checked here, those of services this process does not run too, so a typo fails the start.
 */
export function serviceLogLevels(options: LogLevels = {}): (service: string) => string | undefined {
  const env = process.env;
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith(PREFIX) && value) checkLogLevel(value, name);
  }
  const levels = listedLevels(env.FLOTILLA_LOG_LEVELS ?? "");
  const own = new Map(
    Object.entries(options).map(([service, level]) => [service, checkLogLevel(level, `logLevels.${service}`)]),
  );
  return (service) => own.get(service) ?? (env[logLevelEnvVar(service)] || undefined) ?? levels.get(service);
}

function listedLevels(list: string): Map<string, string> {
  const levels = new Map<string, string>();
  for (const entry of list.split(",")) {
    if (entry.trim() === "") continue;
    const [service, level, extra] = entry.split("=").map((part) => part.trim());
    if (!service || level === undefined || extra !== undefined) {
      const message = `FLOTILLA_LOG_LEVELS has "${entry}" where it needs service=level (e.g. orders=debug,payments=warn)`;
      throw FlotillaError.of(FlotillaCodes.CONFIG, message, { details: { entry } });
    }
    levels.set(service, checkLogLevel(level, `FLOTILLA_LOG_LEVELS for ${service}`));
  }
  return levels;
}
