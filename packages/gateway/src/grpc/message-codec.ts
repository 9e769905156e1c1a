/**
 * @module proto ⇄ JSON along a generated message: a decoded request becomes the JSON object the HTTP
 * route would have given the action (proto3 zero values filled in, 64-bit integers as numbers, a
 * Timestamp as a Date, a Value as its JSON), and the action's JSON answer becomes the response message.
 */
import type { FieldModel, FieldType, MessageModel } from "./proto/proto-model.js";

type Plain = Record<string, unknown>;

/** The action input carried by a decoded request (`toObject` of protobufjs, longs as strings). */
export function fromProto(model: MessageModel, message: Plain): unknown {
  const out: Plain = {};
  for (const field of model.fields) {
    const value = readField(field, message[field.name]);
    if (value !== undefined) out[field.name] = value;
  }
  return model.wrapped ? out.value : out;
}

/** The response object (for protobufjs `fromObject`) carrying the action's answer. */
export function toProto(model: MessageModel, value: unknown): Plain {
  const source = (model.wrapped ? { value } : value) as Plain | null | undefined;
  const out: Plain = {};
  if (typeof source !== "object" || source === null) return out;
  for (const field of model.fields) {
    const written = writeField(field, source[field.name]);
    if (written !== undefined) out[field.name] = written;
  }
  return out;
}

function readField(field: FieldModel, value: unknown): unknown {
  if (field.repeated) {
    const list = Array.isArray(value) ? value : [];
    if (list.length === 0) return field.optional ? undefined : [];
    return list.map((item) => readValue(field.type, item));
  }
  if (field.map) {
    const entries = Object.entries((value ?? {}) as Plain);
    if (entries.length === 0) return field.optional ? undefined : {};
    return Object.fromEntries(entries.map(([k, v]) => [k, readValue(field.type, v)]));
  }
  if (value === undefined || value === null) {
    if (field.nullWhenAbsent) return null;
    // proto3 leaves a scalar at its zero value off the wire; a field with presence was simply not sent.
    return field.optional || field.type.kind !== "scalar" ? undefined : zeroOf(field.type);
  }
  return readValue(field.type, value);
}

function readValue(type: FieldType, value: unknown): unknown {
  switch (type.kind) {
    case "scalar":
      if (typeof value !== "string" || !type.scalar.endsWith("64")) return value;
      // Beyond 2^53 the number is not exact: the contract's integer check refuses it, as it would over JSON.
      return type.bigint === true ? BigInt(value) : Number(value);
    case "message":
      return fromProto(type.message, value as Plain);
    case "timestamp": {
      const { seconds, nanos } = value as { seconds?: string | number; nanos?: number };
      return new Date(Number(seconds ?? 0) * 1000 + Math.floor((nanos ?? 0) / 1e6));
    }
    case "json":
      return fromValue(value as Plain);
  }
}

function zeroOf(type: Extract<FieldType, { kind: "scalar" }>): unknown {
  if (type.scalar === "string") return "";
  if (type.scalar === "bool") return false;
  return type.bigint === true ? 0n : 0;
}

function writeField(field: FieldModel, value: unknown): unknown {
  if (value === undefined) return undefined;
  if (value === null) return field.type.kind === "json" && !field.repeated && !field.map ? NULL_VALUE : undefined;
  if (field.repeated) return Array.isArray(value) ? value.map((item) => writeValue(field.type, item)) : undefined;
  if (field.map) {
    return Object.fromEntries(Object.entries(value as Plain).map(([k, v]) => [k, writeValue(field.type, v)]));
  }
  return writeValue(field.type, value);
}

function writeValue(type: FieldType, value: unknown): unknown {
  switch (type.kind) {
    case "scalar":
      return typeof value === "bigint" ? value.toString() : value;
    case "message":
      return toProto(type.message, value);
    case "timestamp": {
      const ms = value instanceof Date ? value.getTime() : Date.parse(String(value));
      const seconds = Math.floor(ms / 1000);
      return { seconds, nanos: (ms - seconds * 1000) * 1e6 };
    }
    case "json":
      return toValue(value);
  }
}

const NULL_VALUE = { nullValue: 0 };

/** JSON → google.protobuf.Value, as JSON.stringify would see the value (undefined members dropped). */
export function toValue(value: unknown): Plain {
  if (value === null || value === undefined) return NULL_VALUE;
  if (typeof value === "number") return { numberValue: value };
  if (typeof value === "string") return { stringValue: value };
  if (typeof value === "boolean") return { boolValue: value };
  if (typeof value === "bigint") return { stringValue: value.toString() };
  if (value instanceof Date) return { stringValue: value.toISOString() };
  if (Array.isArray(value)) return { listValue: { values: value.map(toValue) } };
  const fields: Plain = {};
  for (const [k, v] of Object.entries(value as Plain)) if (v !== undefined) fields[k] = toValue(v);
  return { structValue: { fields } };
}

/** google.protobuf.Value → JSON. */
export function fromValue(value: Plain | undefined): unknown {
  if (value === undefined || value === null) return undefined;
  if ("numberValue" in value) return value.numberValue;
  if ("stringValue" in value) return value.stringValue;
  if ("boolValue" in value) return value.boolValue;
  if ("structValue" in value) {
    const fields = ((value.structValue as Plain | undefined)?.fields ?? {}) as Record<string, Plain>;
    return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, fromValue(v) ?? null]));
  }
  if ("listValue" in value) {
    const values = ((value.listValue as Plain | undefined)?.values ?? []) as Plain[];
    return values.map((v) => fromValue(v) ?? null);
  }
  return null;
}
