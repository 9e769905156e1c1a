/** @module Events as NATS messages: CloudEvents binary mode (attributes in `ce-` headers, data as JSON body). */
import { type EventEnvelope, FlotillaCodes, FlotillaError } from "@flotilla/core";
import { decode, encode } from "@flotilla/core/internal";
import type { MsgHdrs } from "@nats-io/transport-node";
import { fromNatsHeaders, NatsHeaders, toNatsHeaders } from "./headers.js";

export interface EventMessage {
  readonly data: Uint8Array;
  readonly headers: MsgHdrs;
}

export function encodeEvent(event: EventEnvelope, maxPayload: number): EventMessage {
  const data = encode(event.data, maxPayload);
  const headers = toNatsHeaders(event.headers, {
    [NatsHeaders.ceSpecVersion]: "1.0",
    [NatsHeaders.ceId]: event.id,
    [NatsHeaders.ceType]: event.type,
    [NatsHeaders.ceSource]: event.source,
    [NatsHeaders.ceTime]: event.time,
    [NatsHeaders.ceDataVersion]: String(event.version),
    [NatsHeaders.contentType]: "application/json",
  });
  return { data, headers };
}

/** Rebuilds the envelope; a message that is not one of our events fails with FLOTILLA_BAD_ENVELOPE (poison). */
export function decodeEvent(headers: MsgHdrs | undefined, data: Uint8Array): EventEnvelope {
  const attr = (name: string) => headers?.get(name) ?? "";
  const id = attr(NatsHeaders.ceId);
  const type = attr(NatsHeaders.ceType);
  const version = Number(attr(NatsHeaders.ceDataVersion));
  if (!id || !type || !Number.isInteger(version)) {
    throw FlotillaError.of(
      FlotillaCodes.BAD_ENVELOPE,
      "message on an event subject lacks its ce-id, ce-type or ce-dataversion",
    );
  }
  return {
    id,
    type,
    source: attr(NatsHeaders.ceSource),
    version,
    time: attr(NatsHeaders.ceTime),
    headers: fromNatsHeaders(headers),
    data: decode(data),
  };
}
