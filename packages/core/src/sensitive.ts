/**
 * @module Sensitive fields of a contract: `sensitive(schema)` marks a field (a card number, an email, a
 * street) so views that show payloads to operators (the dashboard's live messages and dead letters)
 * show "[redacted]" in its place; `redact(schema, value)` does the replacing.
 */
import type { z } from "zod";

/** What a redacted field shows. */
export const REDACTED = "[redacted]";

/**
 * Metadata key of the mark, as zod's `.meta()` keeps it (so `.meta({ "x-sensitive": true })` marks too). An
 * OpenAPI extension name, since the gateway's OpenAPI document carries schemas' metadata: it shows there.
 */
const MARK = "x-sensitive";

/** Marks a field sensitive: its values are validated as before but never shown to operators. */
export function sensitive<S extends z.ZodType>(schema: S): S {
  return schema.meta({ ...(schema.meta() ?? {}), [MARK]: true }) as S;
}

/** Whether the schema itself carries the mark (wrappers around a marked schema: see `redact`). */
export function isSensitive(schema: z.ZodType): boolean {
  return (schema.meta() as Record<string, unknown> | undefined)?.[MARK] === true;
}

/**
 * A copy of `value` in which every field the schema marks sensitive, at any depth (objects, arrays,
 * records, tuples, unions, optional and nullable wrappers, pipes), reads "[redacted]". Fields the
 * schema does not know are copied as they are: the schema decides what is sensitive, not the value.
 */
export function redact(schema: z.ZodType, value: unknown): unknown {
  if (value === undefined) return value;
  if (isSensitive(schema)) return REDACTED;
  const def = (schema as unknown as { _zod: { def: Def } })._zod.def;
  switch (def.type) {
    case "object":
      return isRecord(value) ? redactObject(def.shape ?? {}, value) : value;
    case "array":
      return Array.isArray(value) && def.element ? value.map((v) => redact(def.element as z.ZodType, v)) : value;
    case "tuple":
      return Array.isArray(value)
        ? value.map((v, i) => {
            const item = def.items?.[i] ?? def.rest;
            return item ? redact(item, v) : v;
          })
        : value;
    case "record":
      return isRecord(value) && def.valueType
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(def.valueType as z.ZodType, v)]))
        : value;
    case "union":
      // Whichever option the value matched, a field any option marks is redacted.
      return (def.options ?? []).reduce<unknown>((v, option) => redact(option, v), value);
    case "intersection":
      return redact(def.right as z.ZodType, redact(def.left as z.ZodType, value));
    case "pipe":
      return redact(def.out as z.ZodType, redact(def.in as z.ZodType, value));
    case "lazy":
      return def.getter ? redact(def.getter(), value) : value;
    default:
      // optional, nullable, default, readonly, catch, …: the wrapped schema decides.
      if (value === null) return value;
      return def.innerType ? redact(def.innerType, value) : value;
  }
}

/** The parts of zod 4's schema definitions that `redact` walks. */
interface Def {
  readonly type: string;
  readonly shape?: Record<string, z.ZodType>;
  readonly element?: z.ZodType;
  readonly items?: readonly z.ZodType[];
  readonly rest?: z.ZodType | null;
  readonly valueType?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly left?: z.ZodType;
  readonly right?: z.ZodType;
  readonly in?: z.ZodType;
  readonly out?: z.ZodType;
  readonly innerType?: z.ZodType;
  getter?(): z.ZodType;
}

function redactObject(shape: Record<string, z.ZodType>, value: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const field = shape[key];
    copy[key] = field === undefined ? v : redact(field, v);
  }
  return copy;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
