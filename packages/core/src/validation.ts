/** @module Schema validation at the boundary, failing with INVALID_ARGUMENT and the failing fields. */
import type { z } from "zod";
import { FlotillaError } from "./errors.js";

export interface FieldIssue {
  /** Dotted path of the failing field, e.g. `items.0.quantity`; empty for the whole value. */
  readonly path: string;
  readonly message: string;
  readonly code: string;
}

export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues: FieldIssue[] = result.error.issues.map((i) => ({
    path: i.path.map(String).join("."),
    message: i.message,
    code: i.code,
  }));
  const first = issues[0];
  const summary = first ? `${first.path || "value"}: ${first.message}` : "invalid";
  throw new FlotillaError("INVALID_ARGUMENT", `invalid ${what} (${summary})`, { details: { issues } });
}
