/** @module Flotilla over NATS: request-reply for actions, JetStream for events. */
import type { Transport } from "@flotilla/core";
import { NatsTransport } from "./nats-transport.js";
import { optionsFromUrl } from "./options.js";

export { NatsTransport } from "./nats-transport.js";
export type { NatsTransportOptions } from "./options.js";

/** A `TransportFactory` for `nats://` URLs: `createHost({ transport: "nats://…", transports: { nats: natsTransport } })`. */
export function natsTransport(url: URL): Transport {
  return new NatsTransport(optionsFromUrl(url));
}
