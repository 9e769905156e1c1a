/** @module Forged and hand-made tokens for the attack table: compact JWS by hand, HMAC key confusion, foreign assertions. */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { type CryptoKey, generateKeyPair, importJWK, type JWK, type JWTPayload, SignJWT } from "jose";

export const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
export const now = () => Math.floor(Date.now() / 1000);

/** A compact JWS built by hand: header and claims as given, signature as given (empty for alg none). */
export function compact(
  header: Record<string, unknown>,
  payload: JWTPayload,
  sign?: (input: string) => string,
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign ? sign(input) : ""}`;
}

export const hmac = (secret: string | Buffer) => (input: string) =>
  createHmac("sha256", secret).update(input).digest("base64url");

export function signedBy(key: CryptoKey, header: Record<string, unknown>, payload: JWTPayload): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: "ES256", ...header }).sign(key);
}

export function jwkBytes(member: string | undefined): Buffer {
  return Buffer.from(member ?? "", "base64url");
}

/** An assertion shaped exactly like the edge's (typ, iss, aud, the edge key's kid) but signed by another Ed25519 key. */
export async function foreignAssertion(dataDir: string): Promise<string> {
  const edgeJwks = JSON.parse(readFileSync(join(dataDir, "edge-keys.json"), "utf8")) as { keys: JWK[] };
  const { privateKey } = await generateKeyPair("EdDSA");
  return new SignJWT({ sub: "admin", roles: ["admin"], tier: "premium" })
    .setProtectedHeader({ alg: "EdDSA", typ: "flotilla-caller+jwt", kid: edgeJwks.keys[0]?.kid ?? "edge" })
    .setIssuer("flotilla:edge")
    .setAudience("flotilla:internal")
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(privateKey);
}

/** The identity service's current signing key, from its database in the shop's data directory. */
export async function readIssuerKey(dataDir: string, wantedKid: string): Promise<CryptoKey> {
  const db = new Database(join(dataDir, "identity.sqlite"), { readonly: true });
  try {
    const row = db.prepare("SELECT private_jwk FROM signing_keys WHERE kid = ?").get(wantedKid) as
      | { private_jwk: string }
      | undefined;
    if (row === undefined) throw new Error(`no signing key ${wantedKid} in the identity database`);
    return (await importJWK(JSON.parse(row.private_jwk) as JWK, "ES256")) as CryptoKey;
  } finally {
    db.close();
  }
}
