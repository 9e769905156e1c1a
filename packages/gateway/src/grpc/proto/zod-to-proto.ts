/**
 * @module zod → proto3: the message an action's input or output becomes. Objects become messages (nested
 * ones inside their parent, named after their field), integers the narrowest integer type their bounds
 * allow, and what proto cannot type (unions of objects, unknown, an optional nullable) a
 * `google.protobuf.Value` carrying the JSON. docs/grpc.md has the table.
 */
import { FlotillaCodes, FlotillaError, type Schema } from "@flotilla/core";
import type { FieldModel, FieldType, MessageModel, ScalarType } from "./proto-model.js";

/** Requests are read as the client may send them (defaults optional), answers as the service gives them. */
export type SchemaSide = "input" | "output";

/** What the generator reads of a zod 4 schema: its definition, and the number bounds classic zod exposes. */
interface ZodLike {
  readonly _zod: { readonly def: Def };
  readonly isInt?: boolean;
  readonly minValue?: number | null;
  readonly maxValue?: number | null;
}
interface Def {
  readonly type: string;
  readonly innerType?: ZodLike;
  readonly in?: ZodLike;
  readonly out?: ZodLike;
  readonly element?: ZodLike;
  readonly keyType?: ZodLike;
  readonly valueType?: ZodLike;
  readonly shape?: Record<string, ZodLike>;
  readonly options?: readonly ZodLike[];
  readonly entries?: Record<string, string | number>;
  readonly values?: readonly unknown[];
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const INT32 = 2 ** 31;
const UINT32 = 2 ** 32;
const JSON_TYPE: FieldType = { kind: "json" };
const EMPTY_TYPES = new Set(["void", "undefined", "never"]);

/** The message for `schema`, named `name`: its fields when it is an object, else one field `value`. */
export function messageOf(schema: Schema, name: string, side: SchemaSide): MessageModel {
  const { base } = unwrap(schema as unknown as ZodLike, side);
  if (base._zod.def.type === "object") return objectMessage(name, base, side, []);
  if (EMPTY_TYPES.has(base._zod.def.type)) return { name, fields: [], nested: [], wrapped: true };
  const nested: MessageModel[] = [];
  return { name, fields: [fieldOf("value", schema as unknown as ZodLike, side, nested, [])], nested, wrapped: true };
}

function objectMessage(name: string, schema: ZodLike, side: SchemaSide, ancestors: readonly ZodLike[]): MessageModel {
  const nested: MessageModel[] = [];
  const fields: FieldModel[] = [];
  for (const [key, value] of Object.entries(schema._zod.def.shape ?? {})) {
    if (!IDENTIFIER.test(key)) {
      throw FlotillaError.of(FlotillaCodes.CONFIG, `field "${key}" of ${name} is not a proto identifier`);
    }
    fields.push(fieldOf(key, value, side, nested, [...ancestors, schema]));
  }
  return { name, fields, nested, wrapped: false };
}

interface Unwrapped {
  readonly base: ZodLike;
  readonly optional: boolean;
  readonly nullable: boolean;
}

/** Peels the wrappers that say nothing about the wire type: optional, nullable, defaults, readonly, pipes. */
function unwrap(schema: ZodLike, side: SchemaSide): Unwrapped {
  let base = schema;
  let optional = false;
  let nullable = false;
  for (;;) {
    const def = base._zod.def;
    if (def.type === "optional") optional = true;
    else if (def.type === "nullable") nullable = true;
    // A default makes a field optional to the client; the service's answer always has it.
    else if (def.type === "default" || def.type === "prefault") optional ||= side === "input";
    else if (def.type === "pipe") {
      base = (side === "input" ? def.in : def.out) as ZodLike;
      continue;
    } else if (!(def.type === "readonly" || def.type === "catch" || def.type === "nonoptional")) break;
    base = def.innerType as ZodLike;
  }
  return { base, optional, nullable };
}

function fieldOf(
  name: string,
  schema: ZodLike,
  side: SchemaSide,
  nested: MessageModel[],
  ancestors: readonly ZodLike[],
): FieldModel {
  const { base, optional, nullable } = unwrap(schema, side);
  const plain = { name, repeated: false, map: false, optional: optional || nullable, nullWhenAbsent: nullable };
  // Value has presence and a null of its own: it tells absent from null where a proto field cannot.
  if (optional && nullable) return { ...plain, type: JSON_TYPE, nullWhenAbsent: false };
  const def = base._zod.def;
  if (def.type === "array" || def.type === "record") {
    const element = def.type === "array" ? def.element : def.valueType;
    const keyIsString = def.type === "array" || isStringLike(def.keyType as ZodLike);
    const inner = unwrap(element as ZodLike, side);
    const innerDef = inner.base._zod.def.type;
    // A list cannot be null or hold holes, nor a list of lists be repeated twice: JSON carries those.
    if (nullable || !keyIsString || inner.optional || inner.nullable || innerDef === "array" || innerDef === "record") {
      return { ...plain, type: JSON_TYPE, nullWhenAbsent: false };
    }
    const type = typeOf(singular(name), inner.base, side, nested, ancestors);
    return {
      ...plain,
      type,
      repeated: def.type === "array",
      map: def.type === "record",
      optional,
      nullWhenAbsent: false,
    };
  }
  const type = typeOf(name, base, side, nested, ancestors);
  return { ...plain, ...(type.kind === "json" ? { nullWhenAbsent: false } : {}), type };
}

function typeOf(
  name: string,
  schema: ZodLike,
  side: SchemaSide,
  nested: MessageModel[],
  ancestors: readonly ZodLike[],
): FieldType {
  const def = schema._zod.def;
  switch (def.type) {
    case "string":
    case "template_literal":
      return scalar("string");
    case "boolean":
      return scalar("bool");
    case "number":
      return scalar(schema.isInt === true ? integerType(schema.minValue, schema.maxValue) : "double");
    case "bigint":
      return { kind: "scalar", scalar: "int64", bigint: true };
    case "date":
      return { kind: "timestamp" };
    case "enum":
      return literalsType(Object.values(def.entries ?? {}));
    case "literal":
      return literalsType(def.values ?? []);
    case "union":
      return (def.options ?? []).every((o) => isStringLike(o)) ? scalar("string") : JSON_TYPE;
    case "object": {
      // A schema inside itself (a recursive type) has no finite message: JSON carries it.
      if (ancestors.includes(schema)) return JSON_TYPE;
      const messageName = pascal(name);
      if (nested.some((m) => m.name === messageName)) {
        throw FlotillaError.of(FlotillaCodes.CONFIG, `two fields of one message would both nest ${messageName}`);
      }
      const message = objectMessage(messageName, schema, side, ancestors);
      nested.push(message);
      return { kind: "message", message };
    }
    default:
      return JSON_TYPE;
  }
}

/** Bounds that fit 32 bits take a 32-bit type; else 64 bits, whose values JS numbers hold up to 2^53. */
function integerType(min: number | null | undefined, max: number | null | undefined): ScalarType {
  const lo = min ?? Number.NEGATIVE_INFINITY;
  const hi = max ?? Number.POSITIVE_INFINITY;
  if (lo >= 0) return hi < UINT32 ? "uint32" : "uint64";
  return lo >= -INT32 && hi < INT32 ? "int32" : "int64";
}

function literalsType(values: readonly unknown[]): FieldType {
  if (values.length > 0 && values.every((v) => typeof v === "string")) return scalar("string");
  if (values.length > 0 && values.every((v) => typeof v === "boolean")) return scalar("bool");
  if (values.length > 0 && values.every((v) => Number.isSafeInteger(v))) {
    const numbers = values as number[];
    return scalar(integerType(Math.min(...numbers), Math.max(...numbers)));
  }
  if (values.length > 0 && values.every((v) => typeof v === "number")) return scalar("double");
  return JSON_TYPE;
}

function isStringLike(schema: ZodLike): boolean {
  const def = schema._zod.def;
  if (def.type === "string" || def.type === "template_literal") return true;
  if (def.type === "enum") return Object.values(def.entries ?? {}).every((v) => typeof v === "string");
  if (def.type === "literal") return (def.values ?? []).every((v) => typeof v === "string");
  if (def.type === "union") return (def.options ?? []).every((o) => isStringLike(o));
  return false;
}

function scalar(type: ScalarType): FieldType {
  return { kind: "scalar", scalar: type };
}

/** `items` → `Item`, `address` → `Address`: the name of a nested message. */
function singular(name: string): string {
  return name.length > 1 && name.endsWith("s") && !name.endsWith("ss") ? name.slice(0, -1) : name;
}

/** `getProduct` → `GetProduct`, `order_line` → `OrderLine`. */
export function pascal(name: string): string {
  return name
    .split(/[_-]/)
    .filter((part) => part !== "")
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join("");
}
