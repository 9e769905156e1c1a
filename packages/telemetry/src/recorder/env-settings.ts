/** @module Reading tracing's settings from environment variables: one rule for empties and bad numbers. */
import { FlotillaCodes, FlotillaError } from "@flotilla/core";

/** The variable's value, trimmed; undefined when unset or blank. */
export function envText(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const text = env[name]?.trim();
  return text === "" ? undefined : text;
}

/** A positive integer setting; undefined when unset; anything else is refused with FLOTILLA_CONFIG. */
export function envPositiveInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = envText(env, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `${name} must be a positive integer, not "${text}"`);
  }
  return value;
}
