/** @module NATS message headers: envelope headers in, error and event headers, and back out. */
import { FlotillaError, type HeaderMap, Headers, type Status, type WireError } from "@flotilla/core";
import { type Msg, type MsgHdrs, MsgHdrsImpl } from "@nats-io/transport-node";

export const NatsHeaders = {
  /** Set on error replies and dead letters: the error code; the body is the wire error. */
  error: "flotilla-error",
  /** ADR-32 (NATS micro services) error headers, for `nats` CLI and other tooling. */
  serviceError: "Nats-Service-Error",
  serviceErrorCode: "Nats-Service-Error-Code",
  /** JetStream's deduplication key; an event's id unless the event says otherwise (`ce-id`). */
  msgId: "Nats-Msg-Id",
  /**
   * CloudEvents 1.0 attributes (NATS binding, binary mode). An event carries only those that cannot be
   * derived on receipt (see event-messages.ts); older events carry all of them, and decode the same.
   */
  ceSpecVersion: "ce-specversion",
  ceId: "ce-id",
  ceType: "ce-type",
  ceSource: "ce-source",
  ceTime: "ce-time",
  /** Extension attribute: the schema version of `data`. */
  ceDataVersion: "ce-dataversion",
  contentType: "content-type",
  dlqGroup: "flotilla-dlq-group",
  dlqAttempts: "flotilla-dlq-attempts",
} as const;

/** Headers that carry the envelope's own fields, so they are not handed back as envelope headers. */
const TRANSPORT_HEADERS: ReadonlySet<string> = new Set([
  NatsHeaders.ceSpecVersion,
  NatsHeaders.ceId,
  NatsHeaders.ceType,
  NatsHeaders.ceSource,
  NatsHeaders.ceTime,
  NatsHeaders.ceDataVersion,
  NatsHeaders.contentType,
]);

/** A request's metadata headers (read one by one) and the transport's own: the rest are extras. */
const REQUEST_HEADERS: ReadonlySet<string> = new Set([
  Headers.traceparent,
  Headers.tracestate,
  Headers.baggage,
  Headers.correlationId,
  Headers.timeout,
  Headers.caller,
]);

const VALID_KEY = /^[!-9;-~]+$/;
/** Names known to be valid: Flotilla's own, and every name that passed the check before (bounded). */
const validNames = new Set<string>([...REQUEST_HEADERS, ...TRANSPORT_HEADERS, Headers.retryGroup, NatsHeaders.msgId]);
const MAX_REMEMBERED_NAMES = 1024;

function checkHeader(name: string, value: string): void {
  if (!validNames.has(name)) {
    if (!VALID_KEY.test(name)) throw unsendable(name);
    if (validNames.size < MAX_REMEMBERED_NAMES) validNames.add(name);
  }
  if (value.includes("\n") || value.includes("\r")) throw unsendable(name);
}

function unsendable(name: string): FlotillaError {
  return new FlotillaError("INVALID_ARGUMENT", `header ${JSON.stringify(name)} cannot be sent over NATS`);
}

/** What core's `writeMetaHeaders` writes into, besides a plain header map. */
export interface HeaderWriter {
  set(name: string, value: string): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A header block built as the text NATS sends (`NATS/1.0\r\nname: value\r\n…\r\n\r\n`), checked as it is
 * written. nats.js's `publish`/`respond` only call `encode()` on the headers they are given, so this
 * goes out as it is, without nats.js's per-header map, canonicalization and regexes.
 */
export class OutgoingHeaders implements HeaderWriter {
  private block = "NATS/1.0";
  private count = 0;

  set(name: string, value: string): void {
    checkHeader(name, value);
    this.block += `\r\n${name}: ${value}`;
    this.count++;
  }

  /** Every entry of a header map, checked. */
  setAll(headers: HeaderMap | undefined): void {
    if (headers === undefined) return;
    for (const name in headers) this.set(name, headers[name] as string);
  }

  get size(): number {
    return this.count;
  }

  encode(): Uint8Array {
    return encoder.encode(`${this.block}\r\n\r\n`);
  }

  /** For nats.js's publish options, which type headers as its own `MsgHdrs`; only `encode()` is called. */
  asMsgHdrs(): MsgHdrs {
    return this as unknown as MsgHdrs;
  }
}

/** The shape of nats.js's `MsgImpl` that holds the raw message: header bytes are `_rdata[0, _msg.hdr)`. */
interface RawMsg {
  readonly _msg?: { readonly hdr?: number };
  readonly _rdata?: Uint8Array;
}

/** Whether the last `readHeaders` found nats.js's raw message (false: it fell back to nats.js's decoding). */
export let rawHeaderAccess = true;

/**
 * The headers of a received message, parsed once from the raw block into parallel arrays: messages
 * carry a handful, so a lookup is a short scan, and nothing is canonicalized or validated again. Names
 * keep their case; values are trimmed (as nats.js does); the first of repeated names wins.
 */
export class IncomingHeaders {
  static readonly EMPTY = new IncomingHeaders([], [], 0);

  constructor(
    readonly names: readonly string[],
    readonly values: readonly string[],
    /** The status code of the block's first line (`NATS/1.0 503`), 0 when none. */
    readonly code: number,
  ) {}

  get(name: string): string | undefined {
    const names = this.names;
    for (let i = 0; i < names.length; i++) if (names[i] === name) return this.values[i];
    return undefined;
  }

  static parse(block: string): IncomingHeaders {
    const names: string[] = [];
    const values: string[] = [];
    let end = block.indexOf("\r\n");
    if (end < 0) end = block.length;
    const status = block.slice(8, end).trim(); // after "NATS/1.0"
    const code = status.length > 0 ? Number.parseInt(status, 10) || 0 : 0;
    let at = end + 2;
    while (at < block.length) {
      let next = block.indexOf("\r\n", at);
      if (next < 0) next = block.length;
      const colon = block.indexOf(":", at);
      if (colon > at && colon < next) {
        const name = block.slice(at, colon);
        if (!names.includes(name)) {
          names.push(name);
          values.push(block.slice(colon + 1, next).trim());
        }
      }
      at = next + 2;
    }
    return new IncomingHeaders(names, values, code);
  }

  /** From nats.js's decoded headers, for a message whose raw bytes are not reachable. */
  static from(headers: MsgHdrs | undefined): IncomingHeaders {
    if (headers === undefined) return IncomingHeaders.EMPTY;
    const names: string[] = [];
    const values: string[] = [];
    for (const [name, all] of headers) {
      const value = all[0];
      if (value === undefined) continue;
      names.push(name);
      values.push(value);
    }
    return new IncomingHeaders(names, values, headers.code);
  }
}

/** The headers of a message (a core message, or a JetStream message's `msg`), parsed from its raw bytes. */
export function readHeaders(msg: Msg): IncomingHeaders {
  const raw = msg as unknown as RawMsg;
  const hdr = raw._msg?.hdr;
  const data = raw._rdata;
  if (typeof hdr === "number" && data instanceof Uint8Array) {
    return hdr > 0 ? IncomingHeaders.parse(decoder.decode(data.subarray(0, hdr))) : IncomingHeaders.EMPTY;
  }
  rawHeaderAccess = false;
  return IncomingHeaders.from(msg.headers);
}

/** Writes checked headers into nats.js's own `MsgHdrs`, for tools that go on to use its API. */
export class MsgHdrsWriter implements HeaderWriter {
  private readonly record: Record<string, string[]> = {};

  set(name: string, value: string): void {
    checkHeader(name, value);
    this.record[name] ??= [value];
  }

  setAll(headers: HeaderMap | undefined): void {
    if (headers === undefined) return;
    for (const name in headers) this.set(name, headers[name] as string);
  }

  toMsgHdrs(): MsgHdrs {
    return MsgHdrsImpl.fromRecord(this.record);
  }
}

/** Envelope headers plus `extra` as nats.js headers; a name or value the protocol cannot carry is refused. */
export function toNatsHeaders(headers: HeaderMap, extra?: HeaderMap): MsgHdrs {
  const out = new MsgHdrsWriter();
  out.setAll(headers);
  out.setAll(extra);
  return out.toMsgHdrs();
}

/**
 * The envelope headers of a received message: everything but the transport's own and NATS's `Nats-*`
 * ones. Flotilla's envelope headers (`flotilla-retry-group` included) pass both ways unchanged.
 */
export function fromNatsHeaders(headers: IncomingHeaders): HeaderMap {
  const out: HeaderMap = {};
  const { names, values } = headers;
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    if (TRANSPORT_HEADERS.has(name) || name.startsWith("Nats-")) continue;
    out[name] = values[i] as string;
  }
  return out;
}

/** The headers of a request other than its metadata (those set by a caller's middleware), or undefined. */
export function extraHeaders(headers: IncomingHeaders): HeaderMap | undefined {
  let out: HeaderMap | undefined;
  const { names, values } = headers;
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    if (REQUEST_HEADERS.has(name) || name.startsWith("Nats-")) continue;
    out ??= {};
    out[name] = values[i] as string;
  }
  return out;
}

/** Headers of an error reply: our marker plus the ADR-32 pair. */
export function errorHeaders(wire: WireError): MsgHdrs {
  return MsgHdrsImpl.fromRecord({
    [NatsHeaders.error]: [oneLine(wire.code)],
    [NatsHeaders.serviceError]: [oneLine(wire.message).slice(0, 512)],
    [NatsHeaders.serviceErrorCode]: [String(httpCode(wire.status))],
  });
}

const HTTP_CODES: Record<Status, number> = {
  CANCELLED: 499,
  UNKNOWN: 500,
  INVALID_ARGUMENT: 400,
  DEADLINE_EXCEEDED: 504,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 429,
  FAILED_PRECONDITION: 400,
  ABORTED: 409,
  OUT_OF_RANGE: 400,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DATA_LOSS: 500,
  UNAUTHENTICATED: 401,
};

/** The usual gRPC → HTTP mapping, which ADR-32's numeric error code expects. */
export function httpCode(status: Status): number {
  return HTTP_CODES[status] ?? 500;
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ");
}
