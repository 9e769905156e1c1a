/**
 * @module Events as NATS messages: the data as the JSON body, and in headers only what cannot be
 * derived on receipt. `Nats-Msg-Id` is the event id, the subject names the type, the type's service
 * is the source and 1 is the usual schema version, so an event carries `Nats-Msg-Id`, `ce-time` and its
 * envelope headers (`traceparent`, …); `ce-id`, `ce-source` and `ce-dataversion` only when they differ
 * from what would be derived. Events written with every CloudEvents attribute decode the same.
 */
import { type EventEnvelope, FlotillaCodes, FlotillaError } from "@flotilla/core";
import { decode, encode } from "@flotilla/core/internal";
import type { JsMsg } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";
import {
  fromNatsHeaders,
  type HeaderWriter,
  type IncomingHeaders,
  MsgHdrsWriter,
  NatsHeaders,
  OutgoingHeaders,
  readHeaders,
} from "./headers.js";
import { EVENT_PREFIX, serviceOf } from "./subjects.js";

export interface EventMessage {
  readonly data: Uint8Array;
  readonly headers: MsgHdrs;
}

/** Writes an event's headers; `msgID` (JetStream's dedupe key) is the event id unless a retry copy says otherwise. */
export function writeEventHeaders(event: EventEnvelope, msgID: string, out: HeaderWriter): void {
  out.set(NatsHeaders.msgId, msgID);
  if (msgID !== event.id) out.set(NatsHeaders.ceId, event.id);
  out.set(NatsHeaders.ceTime, event.time);
  if (event.source !== serviceOf(event.type)) out.set(NatsHeaders.ceSource, event.source);
  if (event.version !== 1) out.set(NatsHeaders.ceDataVersion, String(event.version));
  const headers = event.headers;
  for (const name in headers) out.set(name, headers[name] as string);
}

/** The publisher's form: body and a header block nats.js sends as it is. */
export function eventMessage(
  event: EventEnvelope,
  msgID: string,
  maxPayload: number,
): { data: Uint8Array; headers: OutgoingHeaders } {
  const data = encode(event.data, maxPayload);
  const headers = new OutgoingHeaders();
  writeEventHeaders(event, msgID, headers);
  return { data, headers };
}

/** For tools: the event as a body and nats.js headers (`Nats-Msg-Id` included), ready for `js.publish`. */
export function encodeEvent(event: EventEnvelope, maxPayload: number, msgID = event.id): EventMessage {
  const data = encode(event.data, maxPayload);
  const headers = new MsgHdrsWriter();
  writeEventHeaders(event, msgID, headers);
  return { data, headers: headers.toMsgHdrs() };
}

/**
 * Rebuilds the envelope from a message's subject, headers and body; a message that is not one of our
 * events (no event id, no `ce-time`, a type that is not its subject's) fails with FLOTILLA_BAD_ENVELOPE (poison).
 */
export function decodeEvent(subject: string, headers: IncomingHeaders, data: Uint8Array): EventEnvelope {
  const id = headers.get(NatsHeaders.ceId) || headers.get(NatsHeaders.msgId);
  const time = headers.get(NatsHeaders.ceTime);
  const type = headers.get(NatsHeaders.ceType) || typeOf(subject);
  const versionHeader = headers.get(NatsHeaders.ceDataVersion);
  const version = versionHeader === undefined ? 1 : Number(versionHeader);
  if (!id || !time || !type || !Number.isInteger(version)) {
    throw FlotillaError.of(
      FlotillaCodes.BAD_ENVELOPE,
      "message on an event subject lacks its event id (Nats-Msg-Id), ce-time or type, or has a malformed ce-dataversion",
    );
  }
  return {
    id,
    type,
    source: headers.get(NatsHeaders.ceSource) || serviceOf(type),
    version,
    time,
    headers: fromNatsHeaders(headers),
    data: decode(data),
  };
}

/** `decodeEvent` of a JetStream message. */
export function decodeMessage(msg: JsMsg): EventEnvelope {
  return decodeEvent(msg.subject, headersOf(msg), msg.data);
}

/** The parsed headers of a JetStream message (from the raw bytes of the core message it wraps). */
export function headersOf(msg: JsMsg): IncomingHeaders {
  return readHeaders((msg as unknown as { msg: Parameters<typeof readHeaders>[0] }).msg ?? msg);
}

function typeOf(subject: string): string | undefined {
  return subject.startsWith(EVENT_PREFIX) ? subject.slice(EVENT_PREFIX.length) : undefined;
}
