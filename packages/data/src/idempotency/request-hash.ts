/** @module The fingerprint of a request's input: equal for equal JSON, whatever the order of its keys. */
import { createHash } from "node:crypto";

/** SHA-256 (hex) of the input as canonical JSON: object keys sorted, arrays in order, undefined left out. */
export function requestHash(input: unknown): string {
  return createHash("sha256")
    .update(JSON.stringify(input ?? null, sortKeys))
    .digest("hex");
}

function sortKeys(_key: string, value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = (value as Record<string, unknown>)[key];
  return sorted;
}
