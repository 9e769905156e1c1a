/** @module TLS termination: HTTP/2 with HTTP/1.1 fallback, certificates reloaded when their files change. */
export { type KeyPair, loadKeyPair, loadKeyPairSync, type TlsOptions, watchKeyPair } from "./certificates.js";
export { applyHttp1Limits, plainServerOptions, secureServerOptions } from "./server-options.js";
