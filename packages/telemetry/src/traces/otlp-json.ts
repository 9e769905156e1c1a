/**
 * @module Decodes an OTLP/HTTP JSON `ExportTraceServiceRequest` (what `@opentelemetry/exporter-trace-otlp-http`
 * sends with its default JSON encoding) into span records, checking everything it reads.
 *
 * The OTLP JSON encoding, as read here: ids are hex strings (not base64); times are nanoseconds since
 * the epoch as decimal strings (numbers accepted); 64-bit integers are strings or numbers; enums
 * (`kind`, `status.code`) are integers, their names accepted too. `kind` is OTel's SpanKind + 1 (0 is
 * "unspecified", read as internal). The service is the resource's `service.name`, unless the span
 * carries `flotilla.service` (one process may run several services); the instance is the resource's
 * `service.instance.id`, else the span's `flotilla.instance`. `sampled` is bit 0 of the span's `flags`
 * (its W3C trace flags); a span without flags was sampled, or it would not have been exported.
 */
import { FlotillaError } from "@flotilla/core";
import type { AttributeValue, SpanEventRecord, SpanLinkRecord, SpanRecord } from "./span-record.js";

/** The largest request body decoded by default. */
export const MAX_OTLP_JSON_BYTES = 8 * 1024 * 1024;

export interface DecodeOtlpOptions {
  /** Bodies larger than this are refused (default 8 MiB). */
  maxBytes?: number;
}

const TRACE_ID = /^[0-9a-fA-F]{32}$/;
const SPAN_ID = /^[0-9a-fA-F]{16}$/;
const UNSIGNED = /^\d+$/;
const SPAN_KIND_NAMES = ["UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"];
const STATUS_NAMES = ["UNSET", "OK", "ERROR"];
const W3C_SAMPLED = 0x01;

type Json = Record<string, unknown>;

/** The request's spans, in the order they appear; throws INVALID_ARGUMENT naming the first flaw. */
export function decodeOtlpJson(body: string | Uint8Array, options: DecodeOtlpOptions = {}): SpanRecord[] {
  const maxBytes = options.maxBytes ?? MAX_OTLP_JSON_BYTES;
  const size = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
  if (size > maxBytes) {
    throw invalid(`the request has ${size} bytes, more than the ${maxBytes} accepted`, "RESOURCE_EXHAUSTED");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof body === "string" ? body : Buffer.from(body).toString("utf8"));
  } catch (err) {
    throw invalid(`the request is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const request = object(parsed, "the request");
  const spans: SpanRecord[] = [];
  list(request.resourceSpans, "resourceSpans").forEach((rs, i) => {
    const at = `resourceSpans[${i}]`;
    const resourceSpans = object(rs, at);
    const resource =
      resourceSpans.resource === undefined
        ? {}
        : attributes(object(resourceSpans.resource, `${at}.resource`).attributes, `${at}.resource.attributes`);
    const service = typeof resource["service.name"] === "string" ? resource["service.name"] : "unknown_service";
    const instance = typeof resource["service.instance.id"] === "string" ? resource["service.instance.id"] : undefined;
    list(resourceSpans.scopeSpans, `${at}.scopeSpans`).forEach((ss, j) => {
      const scopeSpans = object(ss, `${at}.scopeSpans[${j}]`);
      list(scopeSpans.spans, `${at}.scopeSpans[${j}].spans`).forEach((s, k) => {
        spans.push(
          decodeSpan(
            object(s, `${at}.scopeSpans[${j}].spans[${k}]`),
            `${at}.scopeSpans[${j}].spans[${k}]`,
            service,
            instance,
          ),
        );
      });
    });
  });
  return spans;
}

function decodeSpan(span: Json, at: string, resourceService: string, resourceInstance: string | undefined): SpanRecord {
  const traceId = hexId(span.traceId, TRACE_ID, `${at}.traceId`, 32);
  const spanId = hexId(span.spanId, SPAN_ID, `${at}.spanId`, 16);
  const parent = span.parentSpanId;
  const parentSpanId =
    parent === undefined || parent === "" ? undefined : hexId(parent, SPAN_ID, `${at}.parentSpanId`, 16);
  const name = text(span.name, `${at}.name`);
  const start = nanos(span.startTimeUnixNano, `${at}.startTimeUnixNano`);
  const end = nanos(span.endTimeUnixNano, `${at}.endTimeUnixNano`);
  const attrs = attributes(span.attributes, `${at}.attributes`);
  const status = span.status === undefined ? {} : object(span.status, `${at}.status`);
  const statusMessage =
    status.message === undefined || status.message === "" ? undefined : text(status.message, `${at}.status.message`);
  const flags = span.flags === undefined ? 0 : integer(span.flags, `${at}.flags`);
  const events = list(span.events, `${at}.events`).map((e, i) =>
    decodeEvent(object(e, `${at}.events[${i}]`), `${at}.events[${i}]`),
  );
  const links = list(span.links, `${at}.links`).map((l, i) =>
    decodeLink(object(l, `${at}.links[${i}]`), `${at}.links[${i}]`),
  );
  const ownService = attrs["flotilla.service"];
  const ownInstance = attrs["flotilla.instance"];
  const instance = resourceInstance ?? (typeof ownInstance === "string" ? ownInstance : undefined);
  return {
    traceId,
    spanId,
    ...(parentSpanId === undefined ? {} : { parentSpanId }),
    name,
    kind: Math.max(0, enumValue(span.kind, SPAN_KIND_NAMES, "SPAN_KIND_", `${at}.kind`) - 1),
    startMs: nanosToMs(start),
    durationMs: end > start ? nanosToMs(end - start) : 0,
    status: enumValue(status.code, STATUS_NAMES, "STATUS_CODE_", `${at}.status.code`),
    ...(statusMessage === undefined ? {} : { statusMessage }),
    service: typeof ownService === "string" && ownService !== "" ? ownService : resourceService,
    ...(instance === undefined ? {} : { instance }),
    attributes: attrs,
    ...(events.length === 0 ? {} : { events }),
    ...(links.length === 0 ? {} : { links }),
    sampled: flags === 0 || (flags & W3C_SAMPLED) !== 0,
  };
}

function decodeEvent(event: Json, at: string): SpanEventRecord {
  const attrs = attributes(event.attributes, `${at}.attributes`);
  return {
    name: text(event.name, `${at}.name`),
    timeMs: nanosToMs(nanos(event.timeUnixNano, `${at}.timeUnixNano`)),
    ...(Object.keys(attrs).length === 0 ? {} : { attributes: attrs }),
  };
}

function decodeLink(link: Json, at: string): SpanLinkRecord {
  const attrs = attributes(link.attributes, `${at}.attributes`);
  return {
    traceId: hexId(link.traceId, TRACE_ID, `${at}.traceId`, 32),
    spanId: hexId(link.spanId, SPAN_ID, `${at}.spanId`, 16),
    ...(Object.keys(attrs).length === 0 ? {} : { attributes: attrs }),
  };
}

/** `KeyValue[]` as a record; values that are empty are left out, lists and maps that are not flat become JSON text. */
function attributes(value: unknown, at: string): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  list(value, at).forEach((kv, i) => {
    const entry = object(kv, `${at}[${i}]`);
    const key = text(entry.key, `${at}[${i}].key`);
    const decoded = anyValue(entry.value, `${at}[${i}].value`);
    if (decoded === undefined) return;
    out[key] =
      typeof decoded === "object" && !isFlatList(decoded) ? JSON.stringify(decoded) : (decoded as AttributeValue);
  });
  return out;
}

type Decoded = string | number | boolean | Decoded[] | { [key: string]: Decoded } | undefined;

function anyValue(value: unknown, at: string): Decoded {
  if (value === undefined || value === null) return undefined;
  const v = object(value, at);
  if ("stringValue" in v) return text(v.stringValue, `${at}.stringValue`);
  if ("boolValue" in v) {
    if (typeof v.boolValue !== "boolean") throw invalid(`${at}.boolValue: expected a boolean`);
    return v.boolValue;
  }
  if ("intValue" in v) return integer(v.intValue, `${at}.intValue`);
  if ("doubleValue" in v) return double(v.doubleValue, `${at}.doubleValue`);
  if ("bytesValue" in v) return text(v.bytesValue, `${at}.bytesValue`);
  if ("arrayValue" in v) {
    const array = object(v.arrayValue, `${at}.arrayValue`);
    return list(array.values, `${at}.arrayValue.values`)
      .map((item, i) => anyValue(item, `${at}.arrayValue.values[${i}]`))
      .filter((item) => item !== undefined);
  }
  if ("kvlistValue" in v) {
    const kvlist = object(v.kvlistValue, `${at}.kvlistValue`);
    const map: { [key: string]: Decoded } = {};
    list(kvlist.values, `${at}.kvlistValue.values`).forEach((kv, i) => {
      const entry = object(kv, `${at}.kvlistValue.values[${i}]`);
      map[text(entry.key, `${at}.kvlistValue.values[${i}].key`)] = anyValue(
        entry.value,
        `${at}.kvlistValue.values[${i}].value`,
      );
    });
    return map;
  }
  return undefined;
}

/** An attribute list must hold values of one primitive type. */
function isFlatList(value: Decoded): boolean {
  if (!Array.isArray(value)) return false;
  const type = typeof value[0];
  return value.every((item) => typeof item === type && (type === "string" || type === "number" || type === "boolean"));
}

function hexId(value: unknown, shape: RegExp, at: string, length: number): string {
  if (typeof value !== "string" || !shape.test(value)) {
    throw invalid(`${at}: expected ${length} hex characters, got ${preview(value)}`);
  }
  if (/^0+$/.test(value)) throw invalid(`${at}: an all-zero id is invalid`);
  return value.toLowerCase();
}

function nanos(value: unknown, at: string): bigint {
  if (typeof value === "string" && UNSIGNED.test(value)) return BigInt(value);
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  throw invalid(`${at}: expected nanoseconds as a string of digits, got ${preview(value)}`);
}

/** Milliseconds, fractional, to the microsecond. */
function nanosToMs(ns: bigint): number {
  return Number(ns / 1000n) / 1000;
}

function integer(value: unknown, at: string): number {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string" && /^-?\d+$/.test(value)) return Number(value);
  throw invalid(`${at}: expected an integer, got ${preview(value)}`);
}

function double(value: unknown, at: string): number {
  if (typeof value === "number") return value;
  if (value === "NaN" || value === "Infinity" || value === "-Infinity") return Number(value);
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  throw invalid(`${at}: expected a number, got ${preview(value)}`);
}

function enumValue(value: unknown, names: readonly string[], prefix: string, at: string): number {
  if (value === undefined) return 0;
  if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value < names.length) return value;
  if (typeof value === "string") {
    const index = names.indexOf(value.startsWith(prefix) ? value.slice(prefix.length) : value);
    if (index >= 0) return index;
  }
  throw invalid(`${at}: expected one of 0…${names.length - 1}, got ${preview(value)}`);
}

function object(value: unknown, at: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid(`${at}: expected an object, got ${preview(value)}`);
  }
  return value as Json;
}

function list(value: unknown, at: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`${at}: expected an array, got ${preview(value)}`);
  return value;
}

function text(value: unknown, at: string): string {
  if (typeof value !== "string") throw invalid(`${at}: expected a string, got ${preview(value)}`);
  return value;
}

function preview(value: unknown): string {
  const shown = JSON.stringify(value) ?? String(value);
  return shown.length > 40 ? `${shown.slice(0, 40)}…` : shown;
}

function invalid(
  message: string,
  status: "INVALID_ARGUMENT" | "RESOURCE_EXHAUSTED" = "INVALID_ARGUMENT",
): FlotillaError {
  return new FlotillaError(status, `invalid OTLP/JSON trace export: ${message}`);
}
