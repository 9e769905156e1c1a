/** @module For sibling packages and tools: the NATS transport's naming and message encoding. */
export { decodeEvent, encodeEvent } from "./event-messages.js";
export { fromNatsHeaders, NatsHeaders, toNatsHeaders } from "./headers.js";
export { optionsFromUrl } from "./options.js";
export * from "./subjects.js";
