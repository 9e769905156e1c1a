/** @module The gateway's Ed25519 keys for edge assertions: a JWKS file, created, loaded and rotated. */
import { randomBytes } from "node:crypto";
import { link, open, readFile, rename, unlink } from "node:fs/promises";
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import { type CryptoKey, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import { SAFE_KID } from "./token-header.js";

export const EDGE_ALG = "EdDSA";

/**
 * Signing uses the FIRST key in the file that has its private part (`d`); every key verifies. A
 * rotation therefore puts the new key first and keeps the old ones, so assertions signed just before
 * still verify until they expire (minutes); remove an old key by hand after that.
 */
export interface EdgeKeys {
  readonly signing: { readonly kid: string; readonly key: CryptoKey } | undefined;
  readonly verifying: ReadonlyMap<string, CryptoKey>;
}

interface EdgeJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  d?: string;
  kid: string;
  alg: typeof EDGE_ALG;
  use: "sig";
}

export async function loadEdgeKeys(path: string): Promise<EdgeKeys> {
  return edgeKeysFromJwks(await readJwks(path), path);
}

/** Builds the key set from a JWKS already in memory (a secret store, a test). */
export async function edgeKeysFromJwks(jwks: { keys: unknown[] }, origin = "edge keys"): Promise<EdgeKeys> {
  const keys = jwks.keys.map((k) => checkKey(k, origin));
  if (keys.length === 0) throw config(`${origin} holds no key`);
  const verifying = new Map<string, CryptoKey>();
  let signing: EdgeKeys["signing"];
  for (const jwk of keys) {
    const { kty, crv, x, kid } = jwk;
    verifying.set(kid, (await importJWK({ kty, crv, x }, EDGE_ALG)) as CryptoKey);
    if (signing === undefined && jwk.d !== undefined) {
      signing = {
        kid,
        key: (await importJWK({ kty, crv, x, d: jwk.d }, EDGE_ALG, { extractable: false })) as CryptoKey,
      };
    }
  }
  return { signing, verifying };
}

/** Writes a new file holding one fresh key (mode 0600); refuses to overwrite an existing file. */
export async function createEdgeKeysFile(path: string): Promise<EdgeKeys> {
  const jwks = { keys: [await freshKey()] };
  const tmp = await writeTemp(path, jwks);
  try {
    // link, unlike rename, fails when the target exists: keys in use are never replaced by accident.
    await link(tmp, path);
  } catch (err) {
    throw config(`cannot create ${path} (it may exist already)`, err);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  return edgeKeysFromJwks(jwks, path);
}

/** Puts a fresh key first (it signs from now on) and keeps the others for verification. */
export async function rotateEdgeKeys(path: string): Promise<EdgeKeys> {
  const current = await readJwks(path);
  for (const key of current.keys) checkKey(key, path);
  const jwks = { keys: [await freshKey(), ...current.keys] };
  await rename(await writeTemp(path, jwks), path);
  return edgeKeysFromJwks(jwks, path);
}

async function freshKey(): Promise<EdgeJwk> {
  const { privateKey } = await generateKeyPair(EDGE_ALG, { extractable: true });
  const { x, d } = await exportJWK(privateKey);
  if (x === undefined || d === undefined) throw config("generated key cannot be exported");
  const kid = await calculateJwkThumbprint({ kty: "OKP", crv: "Ed25519", x });
  return { kty: "OKP", crv: "Ed25519", x, d, kid, alg: EDGE_ALG, use: "sig" };
}

/** Written and synced beside the target, so a rename or link publishes a complete file or nothing. */
async function writeTemp(path: string, jwks: { keys: unknown[] }): Promise<string> {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  const file = await open(tmp, "wx", 0o600);
  try {
    await file.writeFile(`${JSON.stringify(jwks, null, 2)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  return tmp;
}

async function readJwks(path: string): Promise<{ keys: unknown[] }> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    throw config(`cannot read edge keys from ${path}`, err);
  }
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw config(`${path} is not a JWKS`);
  return { keys };
}

function checkKey(value: unknown, origin: string): EdgeJwk {
  const k = value as Partial<JWK> | null;
  const ok =
    k?.kty === "OKP" &&
    k.crv === "Ed25519" &&
    typeof k.x === "string" &&
    (k.d === undefined || typeof k.d === "string") &&
    typeof k.kid === "string" &&
    SAFE_KID.test(k.kid) &&
    (k.alg === undefined || k.alg === EDGE_ALG) &&
    (k.use === undefined || k.use === "sig");
  if (!ok) throw config(`${origin} holds a key that is not an Ed25519 signing key with a plain kid`);
  return { ...(k as EdgeJwk), alg: EDGE_ALG, use: "sig" };
}

function config(message: string, cause?: unknown): FlotillaError {
  return FlotillaError.of(FlotillaCodes.CONFIG, message, cause === undefined ? {} : { cause });
}

/**
 * The file's keys without their private parts: what a process that only verifies callers (services
 * without a gateway) needs, so the signing key can stay with the gateways.
 */
export async function publicEdgeKeys(path: string): Promise<{ keys: Omit<EdgeJwk, "d">[] }> {
  const { keys } = await readJwks(path);
  return {
    keys: keys.map((k) => checkKey(k, path)).map(({ kty, crv, x, kid, alg, use }) => ({ kty, crv, x, kid, alg, use })),
  };
}
