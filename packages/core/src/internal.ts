/** @module For sibling packages (transports, data, gateway): building blocks that are not public API. */

export { DeadlineEntry, DeadlineTimer } from "./deadline-timer.js";
export { Queue } from "./queue.js";
export { InstanceTable } from "./registry/instance-table.js";
export { DEFAULT_MAX_PAYLOAD_BYTES, decode, encode, roundTrip } from "./transport/codec.js";
export { parseDeadLetterId } from "./transport/dead-letter-id.js";
export type { HeaderReader } from "./transport/metadata.js";
export { mapReader, readMetaHeaders, readTimeout, writeMetaHeaders } from "./transport/metadata.js";
export { memoryTransportOptions } from "./transport/resolve-transport.js";
export { replyError, unavailable } from "./transport/transport-errors.js";
