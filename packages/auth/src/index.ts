/** @module Flotilla authentication: bearer token verification, key sources, and signed edge assertions. */

export type { AuthCode } from "./auth-errors.js";
export { AuthCodes } from "./auth-errors.js";
export type { CallerVerifier } from "./edge-assertion.js";
export { EDGE_AUDIENCE, EDGE_ISSUER, EDGE_TYP } from "./edge-assertion.js";
export type { EdgeKeys } from "./edge-keys.js";
export { createEdgeKeysFile, edgeKeysFromJwks, loadEdgeKeys, publicEdgeKeys, rotateEdgeKeys } from "./edge-keys.js";
export type { EdgeSigner, EdgeSignerOptions } from "./edge-signer.js";
export { edgeSigner } from "./edge-signer.js";
export type { EdgeVerifierOptions } from "./edge-verifier.js";
export { edgeVerifier } from "./edge-verifier.js";
export type { KeySetOptions } from "./key-set.js";
export { KeySet } from "./key-set.js";
export type { FetchOptions, KeySource } from "./key-source.js";
export { keysFromUrl, oidcIssuer, staticKeys } from "./key-source.js";
export type { IssuerConfig, TokenVerifier, TokenVerifierOptions, VerifiedToken } from "./token-verifier.js";
export { createTokenVerifier, defaultIdentity } from "./token-verifier.js";
