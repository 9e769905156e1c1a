/**
 * @module What a span costs to keep in memory: an estimate, not a measurement, but an honest one that
 * grows with everything the span carries, so a byte budget bounds what a store holds.
 *
 * The estimate: strings count two bytes a character (V8 may store one-byte strings, but sliced and
 * two-byte strings are common enough that two is the safe side); numbers 8, booleans 4. On top, fixed
 * overheads for what the engine allocates around the values: 160 bytes per span (the object, its
 * hidden class share, the attributes object, the array slot in its trace), 40 per attribute (a
 * property slot and the key's entry), 64 per event and per link (their objects), 16 per array value.
 */
import type { AttributeValue, SpanRecord } from "./span-record.js";

const SPAN_OVERHEAD = 160;
const ATTRIBUTE_OVERHEAD = 40;
const ENTRY_OVERHEAD = 64;
const ARRAY_OVERHEAD = 16;

/** The estimated bytes a span takes while a store keeps it (see the module's note). */
export function spanBytes(span: SpanRecord): number {
  let bytes =
    SPAN_OVERHEAD +
    2 *
      (span.traceId.length +
        span.spanId.length +
        (span.parentSpanId?.length ?? 0) +
        span.name.length +
        span.service.length +
        (span.instance?.length ?? 0) +
        (span.statusMessage?.length ?? 0)) +
    attributesBytes(span.attributes);
  for (const event of span.events ?? []) {
    bytes += ENTRY_OVERHEAD + 2 * event.name.length + attributesBytes(event.attributes);
  }
  for (const link of span.links ?? []) {
    bytes += ENTRY_OVERHEAD + 2 * (link.traceId.length + link.spanId.length) + attributesBytes(link.attributes);
  }
  return bytes;
}

function attributesBytes(attributes: Readonly<Record<string, AttributeValue>> | undefined): number {
  if (attributes === undefined) return 0;
  let bytes = 0;
  for (const key in attributes) {
    bytes += ATTRIBUTE_OVERHEAD + 2 * key.length + valueBytes(attributes[key] as AttributeValue);
  }
  return bytes;
}

function valueBytes(value: AttributeValue): number {
  if (typeof value === "string") return 2 * value.length;
  if (typeof value === "number") return 8;
  if (typeof value === "boolean") return 4;
  let bytes = ARRAY_OVERHEAD;
  for (const item of value) bytes += valueBytes(item);
  return bytes;
}
