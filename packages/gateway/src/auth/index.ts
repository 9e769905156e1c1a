/** @module The gateway's authentication policies: credentials to a signed caller, and checks on it. */

export type { ApiKeyCacheOptions, ApiKeyLookup } from "./api-key-lookup.js";
export type { AuthenticateOptions } from "./authenticate-policy.js";
export { authenticate } from "./authenticate-policy.js";
export { allowQueryToken, authenticated, requireRole, requireTier } from "./route-policies.js";
