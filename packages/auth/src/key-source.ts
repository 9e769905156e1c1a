/** @module Where verification keys come from: a fixed JWKS, a JWKS URL, or an OpenID Connect issuer. */
import type { JSONWebKeySet } from "jose";
import { AuthCodes, authError } from "./auth-errors.js";

/** Fetches a JWKS document. Called by a KeySet only: on start, for an unknown `kid`, and when stale. */
export type KeySource = () => Promise<JSONWebKeySet>;

export interface FetchOptions {
  /** Whole request, body included (5 s). */
  timeoutMs?: number;
  /** A bigger answer is refused unread: a JWKS is a few KiB (256 KiB). */
  maxBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_BYTES = 256 * 1024;
const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i;
const DISCOVERY_PATH = "/.well-known/openid-configuration";

export function staticKeys(jwks: JSONWebKeySet): KeySource {
  const copy = structuredClone(jwks);
  return async () => copy;
}

export function keysFromUrl(url: string | URL, opts: FetchOptions = {}): KeySource {
  const target = String(url);
  return async () => asJwks(await fetchJson(target, opts), target);
}

/**
 * The keys of an OpenID Connect issuer, found through its discovery document. The document's `issuer`
 * must be exactly the one asked for, or a document served elsewhere could name keys for another issuer.
 */
export function oidcIssuer(issuer: string, opts: FetchOptions = {}): KeySource {
  const expected = issuer.endsWith(DISCOVERY_PATH) ? issuer.slice(0, -DISCOVERY_PATH.length) : issuer;
  const discovery = expected.replace(/\/$/, "") + DISCOVERY_PATH;
  let jwksUri: string | undefined;
  return async () => {
    jwksUri ??= await discoverJwksUri(discovery, expected, opts);
    try {
      return asJwks(await fetchJson(jwksUri, opts), jwksUri);
    } catch (err) {
      // The issuer may have moved its keys: discover again next time.
      jwksUri = undefined;
      throw err;
    }
  };
}

async function discoverJwksUri(discovery: string, expected: string, opts: FetchOptions): Promise<string> {
  const doc = (await fetchJson(discovery, opts)) as { issuer?: unknown; jwks_uri?: unknown } | null;
  if (doc?.issuer !== expected) throw unavailable(`discovery document at ${discovery} names another issuer`);
  if (typeof doc.jwks_uri !== "string") throw unavailable(`discovery document at ${discovery} has no jwks_uri`);
  const uri = new URL(doc.jwks_uri);
  // Keys fetched over plain HTTP could be swapped on the way; only an http issuer (a test) may use it.
  if (uri.protocol !== "https:" && new URL(expected).protocol !== uri.protocol) {
    throw unavailable(`jwks_uri of ${expected} is not https`);
  }
  return uri.href;
}

/** GET with a timeout and a size cap; redirects are refused so a key URL cannot be bounced elsewhere. */
async function fetchJson(url: string, opts: FetchOptions): Promise<unknown> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const signal = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: "error", headers: { accept: "application/json" } });
  } catch (err) {
    throw unavailable(`cannot fetch ${url}`, err);
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw unavailable(`${url} answered ${res.status}`);
  }
  if (!JSON_TYPE.test(res.headers.get("content-type") ?? "")) {
    await res.body?.cancel();
    throw unavailable(`${url} did not answer JSON`);
  }
  const declared = Number(res.headers.get("content-length"));
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw unavailable(`${url} answered more than ${maxBytes} bytes`);
  }
  const text = await readCapped(res, maxBytes, url);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw unavailable(`${url} answered malformed JSON`, err);
  }
}

async function readCapped(res: Response, maxBytes: number, url: string): Promise<string> {
  if (res.body === null) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        throw unavailable(`${url} answered more than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } catch (err) {
    throw err instanceof Error && err.name === "FlotillaError" ? err : unavailable(`cannot read ${url}`, err);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function asJwks(value: unknown, url: string): JSONWebKeySet {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw unavailable(`${url} is not a JWKS`);
  return { keys };
}

function unavailable(message: string, cause?: unknown) {
  return authError(AuthCodes.KEYS_UNAVAILABLE, message, cause);
}
