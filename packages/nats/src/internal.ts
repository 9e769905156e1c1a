/** @module For sibling packages and tools: the NATS transport's and registry's naming and message encoding. */
export { decodeEvent, decodeMessage, encodeEvent, headersOf } from "./event-messages.js";
export { fromNatsHeaders, IncomingHeaders, NatsHeaders, readHeaders, toNatsHeaders } from "./headers.js";
export { decodeInstance } from "./kv-registration.js";
export { registryKey } from "./kv-registry-cache.js";
export { DEFAULT_BUCKET, kvOptionsFromUrl } from "./kv-registry-options.js";
export { optionsFromUrl } from "./options.js";
export { SERVICE_API_PREFIX } from "./service-api.js";
export * from "./subjects.js";
