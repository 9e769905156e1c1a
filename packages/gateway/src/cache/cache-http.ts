/** @module The HTTP side of caching: strong ETags, `If-None-Match`, and the `Cache-Control` of requests and answers. */
import { createHash } from "node:crypto";

/** A strong validator: a hash of the body's bytes, so equal bodies have equal tags on every gateway. */
export function etagOf(body: string): string {
  return `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
}

/**
 * Whether `If-None-Match` names `etag` (or is `*`). The comparison is the weak one RFC 9110 prescribes
 * for this header: a `W/` prefix a client or proxy added does not stop a match.
 */
export function matchesIfNoneMatch(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const value = Array.isArray(header) ? header.join(",") : header;
  for (const raw of value.split(",")) {
    const tag = raw.trim();
    if (tag === "*") return true;
    if ((tag.startsWith("W/") ? tag.slice(2) : tag) === etag) return true;
  }
  return false;
}

/**
 * Whether the request forbids storing its answer (`Cache-Control: no-store`). Nothing else a request
 * says changes how the gateway answers it: see docs/caching.md on `no-cache`.
 */
export function forbidsStore(headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
  const control = headers["cache-control"];
  if (control === undefined) return false;
  const value = (Array.isArray(control) ? control.join(",") : control).toLowerCase();
  return value.split(",").some((directive) => directive.trim() === "no-store");
}

/** `public` only for an answer that is the same for everyone; otherwise `private`, so no cache downstream shares it. */
export function cacheControlOf(isPublic: boolean, maxAgeSec: number): string {
  return `${isPublic ? "public" : "private"}, max-age=${maxAgeSec}`;
}
