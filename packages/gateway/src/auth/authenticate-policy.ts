/** @module The authentication policy: verifies the request's credential and sets a signed caller. */
import { AuthCodes, type EdgeSigner, type TokenVerifier } from "@flotilla/auth";
import { authError } from "@flotilla/auth/internal";
import { FlotillaError, type Identity } from "@flotilla/core";
import { documentPolicy } from "../openapi/policy-docs.js";
import type { Exchange, Policy } from "../policy.js";
import { type ApiKeyCacheOptions, type ApiKeyLookup, cachedApiKeys } from "./api-key-lookup.js";
import { credentialOf, QUERY_TOKEN } from "./credentials.js";
import { acceptsQueryToken } from "./route-policies.js";

export interface AuthenticateOptions {
  tokens: TokenVerifier;
  /** Resolves an `X-API-Key`; undefined for an unknown key. Results are cached briefly (see apiKeyCache). */
  apiKeys?: ApiKeyLookup;
  apiKeyCache?: ApiKeyCacheOptions;
  /** Signs the identity, so services can trust `ctx.caller`. */
  edge: EdgeSigner;
  /**
   * Accept `?access_token=` on every route this policy covers (false). Prefer `allowQueryToken()` on the
   * few routes that need it (EventSource, WebSocket upgrades): tokens in URLs end up in access logs.
   */
  queryToken?: boolean;
}

/**
 * No credential leaves the caller undefined, so public routes keep working; a credential that does
 * not verify is a 401 on every route, never a silent downgrade to anonymous.
 */
export function authenticate(opts: AuthenticateOptions): Policy {
  const { tokens, edge } = opts;
  const apiKeys = opts.apiKeys === undefined ? undefined : cachedApiKeys(opts.apiKeys, opts.apiKeyCache);
  const queryTokenEverywhere = opts.queryToken ?? false;

  async function identityOf(exchange: Exchange): Promise<Identity | undefined> {
    const credential = credentialOf(exchange.request, queryTokenEverywhere || acceptsQueryToken(exchange.route));
    if (credential === undefined) return undefined;
    if (credential.kind === "token") {
      // Out of the input too: a GET route's default input is the query, and services need not see the token.
      delete (exchange.request.query as Record<string, unknown>)[QUERY_TOKEN];
      return (tokens.cached(credential.token) ?? (await tokens.verify(credential.token))).identity;
    }
    if (apiKeys === undefined) throw authError(AuthCodes.API_KEY_INVALID, "API keys are not accepted here");
    const identity = await apiKeys(credential.key);
    if (identity === undefined) throw authError(AuthCodes.API_KEY_INVALID, "API key is not valid");
    return identity;
  }

  const policy: Policy = {
    name: "authenticate",
    async onRequest(exchange) {
      let identity: Identity | undefined;
      try {
        identity = await identityOf(exchange);
      } catch (err) {
        if (err instanceof FlotillaError && err.status === "UNAUTHENTICATED") {
          exchange.setHeader("www-authenticate", 'Bearer error="invalid_token"');
        } else if (err instanceof FlotillaError && err.status === "INVALID_ARGUMENT") {
          exchange.setHeader("www-authenticate", 'Bearer error="invalid_request"');
        }
        throw err;
      }
      if (identity !== undefined) exchange.caller = await edge.sign(identity);
    },
  };
  return documentPolicy(policy, {
    credentials: apiKeys === undefined ? ["bearer"] : ["bearer", "apiKey"],
    // A credential that does not verify is refused on every route, public ones included.
    errors: [
      AuthCodes.TOKEN_INVALID,
      AuthCodes.TOKEN_EXPIRED,
      AuthCodes.CREDENTIALS_CONFLICT,
      AuthCodes.KEYS_UNAVAILABLE,
    ],
  });
}
