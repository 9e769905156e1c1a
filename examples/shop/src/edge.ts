/** @module The shop's front door: who gets in (its own tokens, an external SSO's, API keys) and how much they may use. */

import type { GatewayEnvironment } from "@flotilla/app";
import { createTokenVerifier, defaultIdentity, type IssuerConfig, oidcIssuer } from "@flotilla/auth";
import { FlotillaCodes, FlotillaError, type Identity } from "@flotilla/core";
import {
  authenticate,
  memoryRateLimitStore,
  type Policy,
  type RateLimitStore,
  rateLimit,
  redisRateLimitStore,
  type TierTable,
} from "@flotilla/gateway";
import { identity } from "./services/identity/contract.js";
import { SHOP_AUDIENCE, shopIssuer, TOKEN_ALG } from "./services/identity/token-config.js";

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The gateway's policies, in order: authenticate (a caller from a token or an API key, signed for the
 * services), then the rate limit (per user, per API key, or per client address for anonymous requests).
 * Configured from the environment; see docs/security.md for every variable.
 */
export function shopPolicies({ host, edge }: GatewayEnvironment, env: Env = process.env): Policy[] {
  const tokens = createTokenVerifier({
    issuers: [
      {
        issuer: shopIssuer(env),
        audience: SHOP_AUDIENCE,
        algorithms: [TOKEN_ALG],
        // The identity service's public keys, fetched through the runtime (a call, in any mode).
        keys: () => host.call(identity.jwks, {}),
        // The identity service publishes a new key as it starts signing with it, so a token naming an
        // unknown kid refetches after at most a second. The source is an in-cluster call, so even a flood
        // of made-up kids costs it one cheap call a second; external issuers keep the 30 s floor.
        keySet: { minRefetchMs: 1_000 },
      },
      ...externalIssuers(env),
    ],
    cache: env.FLOTILLA_TOKEN_CACHE === "off" ? false : {},
  });
  const apiKeys = async (key: string): Promise<Identity | undefined> => {
    try {
      return await host.call(identity.verifyApiKey, { key });
    } catch (err) {
      if (err instanceof FlotillaError && err.code === "API_KEY_INVALID") return undefined;
      throw err;
    }
  };
  return [
    authenticate({ tokens, apiKeys, edge }),
    rateLimit({
      store: rateLimitStore(env),
      tiers: rateLimitTiers(env),
      trustedProxies: list(env.FLOTILLA_TRUSTED_PROXIES),
    }),
  ];
}

/** Several gateways share one limit through Redis (`FLOTILLA_REDIS_URL`); one gateway keeps it in memory. */
function rateLimitStore(env: Env): RateLimitStore {
  const url = env.FLOTILLA_REDIS_URL?.trim();
  if (!url) return memoryRateLimitStore();
  const onError = env.FLOTILLA_RATE_LIMIT_ON_REDIS_ERROR === "closed" ? "closed" : "open";
  return redisRateLimitStore({ url, onError });
}

/**
 * `FLOTILLA_RATE_LIMIT`: `<requests>/<seconds>` for every tier (load runs and benchmarks), or JSON
 * `{ "anonymous": { "limit": 120, "windowSec": 60 }, … }` for some tiers; unset: the defaults.
 */
function rateLimitTiers(env: Env): Partial<TierTable> | undefined {
  const raw = env.FLOTILLA_RATE_LIMIT?.trim();
  if (!raw) return undefined;
  const simple = /^(\d+)\/(\d+)$/.exec(raw);
  if (simple) {
    const limit = { limit: Number(simple[1]), windowSec: Number(simple[2]) };
    return { anonymous: limit, standard: limit, premium: limit, admin: limit };
  }
  try {
    return JSON.parse(raw) as Partial<TierTable>;
  } catch {
    throw FlotillaError.of(
      FlotillaCodes.CONFIG,
      `FLOTILLA_RATE_LIMIT must be "<requests>/<seconds>" or JSON, got "${raw}"`,
    );
  }
}

/**
 * External OpenID issuers whose users may sign in (a company's single sign-on): `FLOTILLA_OIDC_ISSUERS`,
 * JSON `[{ "issuer": "https://sso.example.com", "audience": "shop" }]`. Their subjects are namespaced by
 * issuer, so no external user can pass for a local one, and they get the customer role and standard tier.
 */
function externalIssuers(env: Env): IssuerConfig[] {
  const raw = env.FLOTILLA_OIDC_ISSUERS?.trim();
  if (!raw) return [];
  let entries: { issuer: string; audience: string; algorithms?: string[] }[];
  try {
    entries = JSON.parse(raw);
    if (!Array.isArray(entries)) throw new Error("not an array");
  } catch (err) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, "FLOTILLA_OIDC_ISSUERS must be a JSON array", { cause: err });
  }
  return entries.map(({ issuer, audience, algorithms }) => ({
    issuer,
    audience,
    keys: oidcIssuer(issuer),
    algorithms: algorithms ?? ["ES256", "EdDSA", "RS256"],
    toIdentity: (claims) => {
      const { subject, tenant } = defaultIdentity(claims);
      return { subject: `${issuer}#${subject}`, roles: ["customer"], tier: "standard", ...(tenant ? { tenant } : {}) };
    },
  }));
}

function list(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}
