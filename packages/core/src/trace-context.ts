/** @module W3C Trace Context (`traceparent`): parse, format and create ids. */
import { randomFillSync } from "node:crypto";

export interface TraceContext {
  /** 32 lowercase hex characters. */
  readonly traceId: string;
  /** 16 lowercase hex characters: the span that the next hop will see as its parent. */
  readonly spanId: string;
  /** Trace flags; bit 0 is "sampled". */
  readonly flags: number;
  readonly tracestate?: string;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

/** Parses a `traceparent` header; returns undefined for anything invalid (the spec says: start a new trace). */
export function parseTraceparent(header: string | undefined, tracestate?: string): TraceContext | undefined {
  if (!header || header.length > 512) return undefined;
  if (header.length === 55) {
    const ctx = parseCanonical(header);
    if (ctx !== undefined) return tracestate ? { ...ctx, tracestate } : ctx;
  }
  const m = TRACEPARENT.exec(header.trim().toLowerCase());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags] = m as unknown as [string, string, string, string, string];
  // Version ff is forbidden; version 00 must have exactly four fields.
  if (version === "ff" || (version === "00" && header.trim().length !== 55)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  const ctx: TraceContext = { traceId, spanId, flags: Number.parseInt(flags, 16) };
  return tracestate ? { ...ctx, tracestate } : ctx;
}

/**
 * The form every sender writes (`00-<32 hex>-<16 hex>-<2 hex>`, lowercase), checked character by
 * character without a regex, a trim or a lowercase copy; anything else (undefined) takes the general path.
 */
function parseCanonical(h: string): TraceContext | undefined {
  if (h.charCodeAt(0) !== 48 || h.charCodeAt(1) !== 48) return undefined; // "00"
  if (h.charCodeAt(2) !== 45 || h.charCodeAt(35) !== 45 || h.charCodeAt(52) !== 45) return undefined; // "-"
  let zeroTrace = true;
  for (let i = 3; i < 35; i++) {
    const c = h.charCodeAt(i);
    if (!isLowerHex(c)) return undefined;
    if (c !== 48) zeroTrace = false;
  }
  let zeroSpan = true;
  for (let i = 36; i < 52; i++) {
    const c = h.charCodeAt(i);
    if (!isLowerHex(c)) return undefined;
    if (c !== 48) zeroSpan = false;
  }
  const f1 = h.charCodeAt(53);
  const f2 = h.charCodeAt(54);
  if (zeroTrace || zeroSpan || !isLowerHex(f1) || !isLowerHex(f2)) return undefined;
  return { traceId: h.slice(3, 35), spanId: h.slice(36, 52), flags: hexValue(f1) * 16 + hexValue(f2) };
}

function isLowerHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102);
}

function hexValue(c: number): number {
  return c <= 57 ? c - 48 : c - 87;
}

export function formatTraceparent(t: TraceContext): string {
  return `00-${t.traceId}-${t.spanId}-${t.flags.toString(16).padStart(2, "0")}`;
}

// Ids are cut from a pool of random bytes refilled 4 KiB at a time: one hex conversion per id, where
// randomUUID costs a formatted string and slices to strip it back to hex.
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let poolOffset = POOL_BYTES;

function randomHex(bytes: number): string {
  if (poolOffset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const start = poolOffset;
  poolOffset += bytes;
  return pool.toString("hex", start, poolOffset);
}

/** 32 hex characters, never all zeros (W3C calls that id invalid). */
export function newTraceId(): string {
  const id = randomHex(16);
  return id === ZERO_TRACE ? newTraceId() : id;
}

/** 16 hex characters, never all zeros. */
export function newSpanId(): string {
  const id = randomHex(8);
  return id === ZERO_SPAN ? newSpanId() : id;
}

export function newTraceContext(sampled = true): TraceContext {
  return { traceId: newTraceId(), spanId: newSpanId(), flags: sampled ? 1 : 0 };
}

/** The same trace with a new span id: what a hop that records a span hands to its children. */
export function childTraceContext(parent: TraceContext): TraceContext {
  return { ...parent, spanId: newSpanId() };
}
