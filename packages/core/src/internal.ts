/** @module For sibling packages (transports, data, gateway): building blocks that are not public API. */

export { DeadlineEntry, DeadlineTimer } from "./deadline-timer.js";
export { Queue } from "./queue.js";
export { DEFAULT_MAX_PAYLOAD_BYTES, decode, encode, roundTrip } from "./transport/codec.js";
export { parseDeadLetterId } from "./transport/dead-letter-id.js";
export { memoryTransportOptions } from "./transport/resolve-transport.js";
