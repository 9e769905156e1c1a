/** @module A cached, refreshable set of verification keys, each pinned to one algorithm. */
import { type CryptoKey, importJWK, type JSONWebKeySet, type JWK } from "jose";
import { AuthCodes, authError } from "./auth-errors.js";
import type { KeySource } from "./key-source.js";
import { ASYMMETRIC_ALGORITHMS, DEFAULT_ALGORITHMS, SAFE_KID } from "./token-header.js";

export interface KeySetOptions {
  /** Algorithms a key may be pinned to (ES256, EdDSA); symmetric ones are refused. */
  algorithms?: readonly string[];
  /** No refetch happens sooner than this after the previous one, whatever tokens arrive (30 s). */
  minRefetchMs?: number;
  /** Keys older than this are refreshed in the background on the next lookup (10 min). */
  maxAgeMs?: number;
  now?: () => number;
}

interface KeyEntry {
  readonly kid: string | undefined;
  readonly alg: string;
  readonly jwk: JWK;
  /** The public JWK as JSON: an unchanged key keeps its imported CryptoKey across refreshes. */
  readonly fingerprint: string;
  imported?: Promise<CryptoKey>;
}

/** Public parameters only: a JWKS that leaks `d` must not turn verification keys into private ones. */
const PUBLIC_PARAMS = ["kty", "crv", "x", "y", "n", "e"] as const;

export class KeySet {
  readonly algorithms: ReadonlySet<string>;
  private readonly minRefetchMs: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private entries: KeyEntry[] = [];
  private loadedAt: number | undefined;
  private lastFetchAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | undefined;

  constructor(
    private readonly source: KeySource,
    opts: KeySetOptions = {},
  ) {
    const algorithms = opts.algorithms ?? DEFAULT_ALGORITHMS;
    for (const alg of algorithms) {
      if (!ASYMMETRIC_ALGORITHMS.has(alg)) throw new TypeError(`algorithm ${alg} is not an asymmetric one`);
    }
    this.algorithms = new Set(algorithms);
    this.minRefetchMs = opts.minRefetchMs ?? 30_000;
    this.maxAgeMs = opts.maxAgeMs ?? 600_000;
    this.now = opts.now ?? Date.now;
  }

  /** The key a token with this header verifies with; throws TOKEN_INVALID or KEYS_UNAVAILABLE. */
  async key(kid: string | undefined, alg: string): Promise<CryptoKey> {
    if (!this.algorithms.has(alg)) throw invalid("token algorithm is not allowed");
    if (kid !== undefined && !SAFE_KID.test(kid)) throw invalid("token kid is malformed");
    if (this.loadedAt === undefined) {
      await this.refreshIfAllowed();
      if (this.loadedAt === undefined) throw authError(AuthCodes.KEYS_UNAVAILABLE, "no verification keys yet");
    } else if (this.now() - this.loadedAt >= this.maxAgeMs && this.inflight === undefined) {
      // Stale keys still verify this token; the refresh serves the next ones.
      this.refresh().catch(() => undefined);
    }
    let entry = this.find(kid);
    if (entry === undefined && kid !== undefined) {
      // An unknown kid is how a rotation shows: refetch, but at most once per floor, however many ask.
      await this.refreshIfAllowed();
      entry = this.find(kid);
    }
    if (entry === undefined) throw invalid(kid === undefined ? "token has no kid" : "token kid is unknown");
    if (entry.alg !== alg) throw invalid("token algorithm differs from its key's");
    entry.imported ??= importJWK(entry.jwk, entry.alg) as Promise<CryptoKey>;
    try {
      return await entry.imported;
    } catch (err) {
      throw authError(AuthCodes.TOKEN_INVALID, "token key cannot be used", err);
    }
  }

  /** Joins a fetch in flight, or starts one if the floor allows; a failure keeps the keys already held. */
  private async refreshIfAllowed(): Promise<void> {
    const pending = this.inflight ?? (this.now() - this.lastFetchAt >= this.minRefetchMs ? this.refresh() : undefined);
    await pending?.catch(() => undefined);
  }

  private refresh(): Promise<void> {
    this.inflight ??= this.load().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async load(): Promise<void> {
    // Counted from the start, so a failing source is not hammered either.
    this.lastFetchAt = this.now();
    const jwks = await this.source();
    this.install(jwks);
    this.loadedAt = this.now();
  }

  private install(jwks: JSONWebKeySet): void {
    const previous = new Map(this.entries.map((e) => [e.fingerprint, e]));
    const next: KeyEntry[] = [];
    for (const jwk of jwks.keys) {
      const entry = this.accept(jwk);
      if (entry === undefined) continue;
      next.push(previous.get(entry.fingerprint) ?? entry);
    }
    this.entries = next;
  }

  /** A key is usable when it is for signatures, names an allowed algorithm and has a plain kid. */
  private accept(jwk: JWK): KeyEntry | undefined {
    if (typeof jwk !== "object" || jwk === null) return undefined;
    if (jwk.use !== undefined && jwk.use !== "sig") return undefined;
    if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes("verify"))) return undefined;
    if (typeof jwk.alg !== "string" || !this.algorithms.has(jwk.alg)) return undefined;
    if (jwk.kid !== undefined && (typeof jwk.kid !== "string" || !SAFE_KID.test(jwk.kid))) return undefined;
    const pub: Record<string, unknown> = {};
    for (const name of PUBLIC_PARAMS) if (jwk[name] !== undefined) pub[name] = jwk[name];
    if (pub.kty === "oct") return undefined;
    const fingerprint = JSON.stringify([jwk.kid, jwk.alg, pub]);
    return { kid: jwk.kid, alg: jwk.alg, jwk: pub as JWK, fingerprint };
  }

  private find(kid: string | undefined): KeyEntry | undefined {
    if (kid === undefined) return this.entries.length === 1 ? this.entries[0] : undefined;
    return this.entries.find((e) => e.kid === kid);
  }
}

function invalid(message: string) {
  return authError(AuthCodes.TOKEN_INVALID, message);
}
