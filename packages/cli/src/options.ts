/** @module Command-line parsing the commands share: strict options, usage errors and the common option values. */
import { type ParseArgsConfig, parseArgs } from "node:util";

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig["options"]>;

type Parsed<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>
>;

/** A command line the command cannot run: `flotilla` prints the message and the command's usage, and exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Options every command that reaches the app's events takes (`--app`, `--transport`, `--data-dir`, `--help`). */
export const COMMON_OPTIONS = {
  app: { type: "string" as const },
  transport: { type: "string" as const },
  "data-dir": { type: "string" as const },
  help: { type: "boolean" as const, short: "h" },
};

/** Parses `args` against `options` (unknown options and missing values are usage errors); positionals allowed. */
export function parseOptions<const O extends ParseArgsOptionsConfig>(args: string[], options: O): Parsed<O> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** `--transport`, else FLOTILLA_TRANSPORT, else the in-process transport (`memory://`). */
export function transportOption(value: string | undefined, fallback = "memory://"): string {
  return value ?? process.env.FLOTILLA_TRANSPORT ?? fallback;
}

export function portOption(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new UsageError(`${flag} must be a port number, got "${value}"`);
  return n;
}

export function positiveIntOption(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
  }
  return n;
}

/** `a, b,c` → `["a", "b", "c"]`; `none` → `[]`. */
export function listOption(value: string): string[] {
  return value === "none"
    ? []
    : value
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
}
