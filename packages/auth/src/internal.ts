/** @module For sibling packages (the gateway's auth policies): pieces that are not public API. */

export { authError } from "./auth-errors.js";
export { ExpiringCache } from "./expiring-cache.js";
export { MAX_TOKEN_LENGTH } from "./token-header.js";
