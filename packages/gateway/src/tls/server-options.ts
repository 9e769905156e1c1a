/** @module fastify's server options: plain HTTP/1.1, or TLS with HTTP/2 and HTTP/1.1 by ALPN, within the gateway's limits. */
import type { Http2SecureServer } from "node:http2";
import type { GatewayLimits } from "../limits.js";
import { timeoutCheckIntervalMs } from "../limits.js";
import type { KeyPair } from "./certificates.js";

/** Options for a plain HTTP/1.1 server, every limit applied by Node's HTTP server. */
export function plainServerOptions(limits: GatewayLimits) {
  return {
    http: {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: timeoutCheckIntervalMs(limits),
    },
  };
}

/**
 * Options for a TLS server speaking HTTP/2, and HTTP/1.1 to clients that do not offer h2 in ALPN. HTTP/2
 * limits are its own settings: the header list size, and an idle session closed after the keep-alive time.
 */
export function secureServerOptions(limits: GatewayLimits, pair: KeyPair) {
  return {
    http2: true as const,
    http2SessionTimeout: limits.keepAliveTimeoutMs,
    https: {
      allowHTTP1: true,
      cert: pair.cert,
      key: pair.key,
      minVersion: "TLSv1.2" as const,
      settings: { maxHeaderListSize: limits.maxHeaderBytes },
      // A TLS handshake that never finishes holds a socket like a slow request head would.
      handshakeTimeout: limits.headersTimeoutMs,
    },
  };
}

/**
 * HTTP/1.1 over the HTTP/2 server is served by Node's HTTP/1 connection handling, which reads its limits from
 * the server object; fastify sets them only on HTTP/1 servers.
 */
export function applyHttp1Limits(server: Http2SecureServer, limits: GatewayLimits): void {
  const s = server as unknown as Record<string, number>;
  s.maxHeaderSize = limits.maxHeaderBytes;
  s.headersTimeout = limits.headersTimeoutMs;
  s.requestTimeout = limits.requestTimeoutMs;
  s.keepAliveTimeout = limits.keepAliveTimeoutMs;
  // How often Node checks those timeouts (30 s by default): read when the server starts listening.
  s.connectionsCheckingInterval = timeoutCheckIntervalMs(limits);
}
