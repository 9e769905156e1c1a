/**
 * @module Stable field numbers: a field keeps the number the committed `.proto` gave it, a new field takes
 * the next free one, and a removed field's number and name become `reserved`. The file carries a lock
 * (a digest of its numbering), so a number edited by hand is refused instead of becoming the new truth.
 */
import { createHash } from "node:crypto";
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import protobuf from "protobufjs";

/** One message's numbering, as the committed file has it. */
export interface MessageNumbers {
  /** field name → its number and its type as written (`string`, `repeated Item`, `map<string, double>`). */
  readonly fields: ReadonlyMap<string, { readonly number: number; readonly type: string }>;
  readonly reservedNumbers: readonly number[];
  readonly reservedNames: readonly string[];
}

/** message path (`CreateOrderRequest.Item`) → its numbering. */
export type Numbering = ReadonlyMap<string, MessageNumbers>;

export const LOCK_PREFIX = "// flotilla-proto-lock: ";

/** Types that share the varint wire encoding: a field may move between them and keep its number. */
const VARINT = new Set(["int32", "uint32", "int64", "uint64", "bool"]);

/** Reads the numbering of a committed file; refuses one whose lock does not match its numbers. */
export function readNumbering(text: string): Numbering {
  const lock = text.split("\n").find((line) => line.startsWith(LOCK_PREFIX));
  let root: protobuf.Root;
  try {
    root = protobuf.parse(text, { keepCase: true }).root;
  } catch (err) {
    throw config(`the previous .proto does not parse: ${(err as Error).message}`);
  }
  const numbering = new Map<string, MessageNumbers>();
  collect(root, "", numbering);
  if (lock === undefined) throw config("the previous .proto has no flotilla-proto-lock line: it was not generated");
  if (lock.slice(LOCK_PREFIX.length).trim() !== lockOf(numbering)) {
    throw config(
      "the previous .proto's field numbers do not match its lock: numbers were edited by hand. " +
        "Restore the committed file and regenerate (numbers only ever change by reservation)",
    );
  }
  return numbering;
}

function collect(ns: protobuf.NamespaceBase, prefix: string, out: Map<string, MessageNumbers>): void {
  for (const child of ns.nestedArray) {
    if (!(child instanceof protobuf.Type)) continue;
    if (prefix === "" && child.fullName.startsWith(".google.")) continue;
    const path = prefix === "" ? child.name : `${prefix}.${child.name}`;
    const fields = new Map<string, { number: number; type: string }>();
    for (const field of child.fieldsArray) fields.set(field.name, { number: field.id, type: typeText(field) });
    const reserved = child.reserved ?? [];
    const reservedNumbers: number[] = [];
    for (const r of reserved) if (Array.isArray(r)) for (let n = r[0]!; n <= r[1]!; n++) reservedNumbers.push(n);
    out.set(path, {
      fields,
      reservedNumbers,
      reservedNames: reserved.filter((r): r is string => typeof r === "string"),
    });
    collect(child, path, out);
  }
  for (const child of ns.nestedArray) {
    if (
      child instanceof protobuf.Namespace &&
      !(child instanceof protobuf.Type) &&
      !(child instanceof protobuf.Service)
    ) {
      collect(child, prefix, out);
    }
  }
}

function typeText(field: protobuf.Field): string {
  if (field instanceof protobuf.MapField) return `map<${field.keyType}, ${field.type}>`;
  return field.repeated ? `repeated ${field.type}` : field.type;
}

/** The numbers of one message as generated now, given what the committed file had for it. */
export function numberFields(
  path: string,
  fields: readonly { readonly name: string; readonly type: string }[],
  previous: MessageNumbers | undefined,
): MessageNumbers {
  const assigned = new Map<string, { number: number; type: string }>();
  const reservedNumbers = new Set(previous?.reservedNumbers ?? []);
  const reservedNames = new Set(previous?.reservedNames ?? []);
  let highest = Math.max(0, ...reservedNumbers, ...[...(previous?.fields.values() ?? [])].map((f) => f.number));
  for (const field of fields) {
    const had = previous?.fields.get(field.name);
    if (had !== undefined) {
      if (!compatible(had.type, field.type)) {
        throw config(
          `${path}.${field.name} changed from ${had.type} to ${field.type}, which old clients would misread: ` +
            "give the field a new name (the old one is then reserved)",
        );
      }
      assigned.set(field.name, { number: had.number, type: field.type });
    } else {
      if (reservedNames.has(field.name)) {
        throw config(`${path}.${field.name} was removed before and its name is reserved: choose another name`);
      }
      assigned.set(field.name, { number: ++highest, type: field.type });
    }
  }
  for (const [name, had] of previous?.fields ?? []) {
    if (assigned.has(name)) continue;
    reservedNumbers.add(had.number);
    reservedNames.add(name);
  }
  return {
    fields: assigned,
    reservedNumbers: [...reservedNumbers].sort((a, b) => a - b),
    reservedNames: [...reservedNames].sort(),
  };
}

function compatible(before: string, after: string): boolean {
  if (before === after) return true;
  // Same shape (singular, or `repeated`), and a varint at both ends.
  const shapeOf = (type: string) => type.split(" ").slice(0, -1).join(" ");
  const baseOf = (type: string) => type.split(" ").at(-1) ?? "";
  return shapeOf(before) === shapeOf(after) && VARINT.has(baseOf(before)) && VARINT.has(baseOf(after));
}

/** A digest of every message's field numbers and reservations, in a canonical order. */
export function lockOf(numbering: Numbering): string {
  const lines: string[] = [];
  for (const [path, message] of numbering) {
    for (const [name, field] of message.fields) lines.push(`${path}.${name}=${field.number}`);
    for (const n of message.reservedNumbers) lines.push(`${path}#${n}`);
    for (const name of message.reservedNames) lines.push(`${path}!${name}`);
  }
  return createHash("sha256").update(lines.sort().join("\n")).digest("hex").slice(0, 32);
}

function config(message: string): FlotillaError {
  return FlotillaError.of(FlotillaCodes.CONFIG, message);
}
