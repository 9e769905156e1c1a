/** @module A transport whose publishes a test controls: fail them, duplicate them, crash after them. */
import type { EventEnvelope, Transport } from "@flotilla/core";

/**
 * `inner` with `publish` replaced by `publish(event, inner)`; everything else is `inner`'s own, so
 * faults can be injected exactly where a relay hands events over, and nowhere else.
 */
export function interceptPublish(
  inner: Transport,
  publish: (event: EventEnvelope, inner: Transport) => Promise<void>,
): Transport {
  const transport: Transport = {
    name: inner.name,
    connect: () => inner.connect(),
    close: () => inner.close(),
    request: (req, opts) => inner.request(req, opts),
    serve: (opts, handler) => inner.serve(opts, handler),
    isAvailable: (service) => inner.isAvailable(service),
    subscribe: (opts, handler) => inner.subscribe(opts, handler),
    publish: (event) => publish(event, inner),
    ...(inner.deadLetterStore === undefined ? {} : { deadLetterStore: inner.deadLetterStore }),
  };
  const { history, lag } = inner;
  if (history !== undefined) transport.history = (types) => history.call(inner, types);
  if (lag !== undefined) transport.lag = () => lag.call(inner);
  return transport;
}
