/** @module Password hashing with scrypt (node:crypto): PHC-like strings that carry their own parameters. */
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";

export interface ScryptParams {
  /** log2 of N, the CPU/memory cost. */
  ln: number;
  /** Block size. */
  r: number;
  /** Parallelism. */
  p: number;
}

/**
 * N = 2^14, r = 8, p = 1: 16 MiB of memory per hash (128·N·r bytes) and about 65–75 ms on the development
 * machine (2 cores), inside the 30–80 ms budget a login may spend on it; 2^15 measured ~160 ms. Raise
 * `ln` when hardware allows: stored hashes keep their own parameters and are rehashed at the next login.
 */
export const CURRENT_PARAMS: ScryptParams = { ln: 14, r: 8, p: 1 };

const SALT_BYTES = 16;
const HASH_BYTES = 32;
// Upper bounds on parameters read from stored strings, so a corrupted row cannot ask for gigabytes.
const MAX_LN = 20;
const MAX_R = 32;
const MAX_P = 16;

const FORMAT = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

/** Hashes a password with a fresh 16-byte salt: `$scrypt$ln=14,r=8,p=1$<salt b64>$<hash b64>`. */
export async function hashPassword(password: string, params: ScryptParams = CURRENT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params, HASH_BYTES);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

/** True when `password` matches `stored`, with the parameters `stored` names; false for a malformed string. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (parsed === undefined) return false;
  const actual = await derive(password, parsed.salt, parsed.params, parsed.hash.length);
  return timingSafeEqual(actual, parsed.hash);
}

/** True when `stored` was made with other parameters than today's (then rehash it after a successful login). */
export function needsRehash(stored: string, params: ScryptParams = CURRENT_PARAMS): boolean {
  const parsed = parse(stored);
  return (
    parsed === undefined ||
    parsed.params.ln !== params.ln ||
    parsed.params.r !== params.r ||
    parsed.params.p !== params.p ||
    parsed.hash.length !== HASH_BYTES
  );
}

let dummy: Promise<string> | undefined;

/**
 * A hash of a random password with today's parameters: a login for an unknown email verifies against it,
 * so it costs what a wrong password costs and the answer's timing does not tell which emails exist.
 */
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(32).toString("base64"));
  return dummy;
}

function parse(stored: string): { params: ScryptParams; salt: Buffer; hash: Buffer } | undefined {
  const m = FORMAT.exec(stored);
  if (m === null) return undefined;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (ln < 1 || ln > MAX_LN || r < 1 || r > MAX_R || p < 1 || p > MAX_P) return undefined;
  const salt = Buffer.from(m[4] ?? "", "base64");
  const hash = Buffer.from(m[5] ?? "", "base64");
  if (salt.length < 8 || hash.length < 16) return undefined;
  return { params: { ln, r, p }, salt, hash };
}

function derive(password: string, salt: Buffer, { ln, r, p }: ScryptParams, length: number): Promise<Buffer> {
  const N = 2 ** ln;
  // scrypt needs 128·N·r bytes (plus 128·r·p); Node's default maxmem (32 MiB) would refuse larger N, so
  // allow exactly what these parameters need, with headroom.
  const options: ScryptOptions = { N, r, p, maxmem: 128 * N * r + 128 * r * p + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    // NFC: the same password typed on two keyboards may arrive composed or decomposed.
    scrypt(password.normalize("NFC"), salt, length, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}
