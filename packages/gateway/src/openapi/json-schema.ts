/** @module Contract schemas as JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1), via zod 4's `z.toJSONSchema`. */
import { z } from "zod";

export type JsonSchema = { [key: string]: unknown };

/**
 * Which side of a schema to describe. A request is described as the client may send it (`input`: before
 * coercion, defaults optional, unknown keys allowed because they are stripped), an answer as the service's
 * parsed output (`output`: defaults applied, so present; unknown keys stripped, so `additionalProperties: false`).
 */
export type SchemaSide = "input" | "output";

/** Schemas with no JSON value: an action returning one of these answers without a body. */
const NO_VALUE = new Set(["undefined", "void"]);

export function describesNothing(schema: z.ZodType): boolean {
  return NO_VALUE.has(schema._zod.def.type);
}

/** `z.never()`: an action that never succeeds, so its route documents no success answer. */
export function neverSucceeds(schema: z.ZodType): boolean {
  return schema._zod.def.type === "never";
}

/**
 * The JSON Schema of one side of a zod schema. What JSON Schema cannot say (a `.transform()`'s result, a
 * `z.date()`, a custom check) is left open (`{}`) rather than refused: the document stays valid and never
 * promises more than the contract checks. Refinements are dropped the same way (zod cannot export them).
 * `$defs` (recursive or shared parts zod extracts) are moved into `defs` under names prefixed by `prefix`,
 * and their `$ref`s rewritten to `#/components/schemas/…`: inside an OpenAPI document a `#/$defs/…`
 * reference would resolve against the document, not the schema.
 */
export function jsonSchemaOf(
  schema: z.ZodType,
  side: SchemaSide,
  prefix: string,
  defs: Record<string, JsonSchema>,
): JsonSchema {
  const raw = z.toJSONSchema(schema, { io: side, target: "draft-2020-12", unrepresentable: "any" }) as JsonSchema;
  const { $schema: _dialect, $defs, ...root } = raw;
  const names = new Map<string, string>();
  for (const name of Object.keys(($defs ?? {}) as object)) names.set(name, componentName(`${prefix}.${name}`));
  const rootName = componentName(prefix);
  let selfReferenced = false;
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (node === null || typeof node !== "object") return node;
    const out: JsonSchema = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") {
        out[key] = refTarget(value);
      } else {
        out[key] = rewrite(value);
      }
    }
    return out;
  };
  const refTarget = (ref: string): string => {
    if (ref === "#") {
      selfReferenced = true;
      return `#/components/schemas/${rootName}`;
    }
    const name = ref.startsWith("#/$defs/") ? names.get(ref.slice("#/$defs/".length)) : undefined;
    return name === undefined ? ref : `#/components/schemas/${name}`;
  };
  for (const [name, def] of Object.entries(($defs ?? {}) as Record<string, unknown>)) {
    defs[names.get(name)!] = rewrite(def) as JsonSchema;
  }
  const described = rewrite(root) as JsonSchema;
  if (!selfReferenced) return described;
  defs[rootName] = described;
  return { $ref: `#/components/schemas/${rootName}` };
}

/** OpenAPI component names must match `^[a-zA-Z0-9._-]+$`. */
function componentName(name: string): string {
  return name.replace(/[^a-zA-Z0-9._-]/g, "_");
}

/** The named properties of an object schema (after `jsonSchemaOf`), with whether each is required. */
export function objectProperties(schema: JsonSchema): { name: string; schema: JsonSchema; required: boolean }[] {
  const properties = schema.properties;
  if (schema.type !== "object" || properties === null || typeof properties !== "object") return [];
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return Object.entries(properties as Record<string, JsonSchema>).map(([name, s]) => ({
    name,
    schema: s,
    required: required.has(name),
  }));
}

/** The object schema without the named properties (they travel in the path, not the body). */
export function withoutProperties(schema: JsonSchema, names: readonly string[]): JsonSchema {
  if (names.length === 0 || schema.type !== "object" || typeof schema.properties !== "object") return schema;
  const properties = { ...(schema.properties as Record<string, unknown>) };
  for (const name of names) delete properties[name];
  const out: JsonSchema = { ...schema, properties };
  if (Array.isArray(schema.required)) {
    const required = (schema.required as string[]).filter((r) => !names.includes(r));
    if (required.length > 0) out.required = required;
    else delete out.required;
  }
  return out;
}
