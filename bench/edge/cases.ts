/** @module The edge benchmark's cases: who answers `GET /api/v1/products/:id`, and their labels. */

export const EDGE_CASES = ["embedded", "nats", "nginx", "fast-gateway", "direct"] as const;
export type EdgeCase = (typeof EDGE_CASES)[number];

export const TOKEN_CACHE = ["on", "off"] as const;
export type TokenCache = (typeof TOKEN_CACHE)[number];

export const ACCESS_LOG = ["off", "on"] as const;
export type AccessLog = (typeof ACCESS_LOG)[number];

export const LABELS: Record<EdgeCase, string> = {
  embedded: "flotilla-embedded (shop, memory://?faithful=1)",
  nats: "flotilla-nats (gateway → NATS → catalog)",
  nginx: "nginx → service",
  "fast-gateway": "fast-gateway → service",
  direct: "service direct",
};

/** The Flotilla cases run once per token-cache variant; the others once. */
export function isFlotilla(c: EdgeCase): boolean {
  return c === "embedded" || c === "nats";
}
