/** @module API keys for machine clients: `flk_<id>_<secret>`, shown once, stored as a SHA-256 of the secret. */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Identity } from "@flotilla/core";
import type { IdentityContext } from "./accounts.js";
import { identity, Role, Tier } from "./contract.js";

const KEY_FORMAT = /^flk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface NewApiKey {
  id: string;
  /** The whole key, for the client; never stored. */
  key: string;
  secretHash: string;
}

/** 32 random bytes of secret (43 base64url characters); the id lets verification find the row in one lookup. */
export function newApiKey(): NewApiKey {
  const id = randomBytes(8).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  return { id, key: `flk_${id}_${secret}`, secretHash: hashSecret(secret) };
}

/** The id and secret of a well-formed key, else undefined. */
export function parseApiKey(key: string): { id: string; secret: string } | undefined {
  const m = KEY_FORMAT.exec(key);
  return m?.[1] && m[2] ? { id: m[1], secret: m[2] } : undefined;
}

/**
 * A slow KDF (scrypt, as for passwords) exists to make guessing low-entropy secrets expensive. A 256-bit
 * random secret cannot be guessed however fast the hash is, so one SHA-256 is enough to make a leaked
 * table useless, and it keeps each authenticated machine request cheap.
 */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** Constant-time comparison of a presented secret with the stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const actual = Buffer.from(hashSecret(secret), "hex");
  const expected = Buffer.from(storedHash, "hex");
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Stores a new key for a machine client and returns it, the only time the whole key is seen. */
export async function issueApiKey(
  ctx: IdentityContext,
  admin: Identity,
  { name, roles, tier }: { name: string; roles: string[]; tier: string },
): Promise<{ id: string; key: string }> {
  const { id, key, secretHash } = newApiKey();
  await ctx.db
    .insertInto("api_keys")
    .values({
      id,
      name,
      secret_hash: secretHash,
      roles: JSON.stringify(roles),
      tier,
      created_at: new Date().toISOString(),
      revoked_at: null,
    })
    .execute();
  ctx.log.info({ apiKey: id, name, roles, by: admin.subject }, "issued an API key");
  return { id, key };
}

/** The identity a valid, unrevoked key stands for; API_KEY_INVALID for anything else. */
export async function verifyApiKey(ctx: IdentityContext, key: string) {
  const parsed = parseApiKey(key);
  const row = parsed
    ? await ctx.db.selectFrom("api_keys").selectAll().where("id", "=", parsed.id).executeTakeFirst()
    : undefined;
  // Ids are not secret, so answering faster for an unknown id reveals nothing worth hiding.
  if (!parsed || !row || row.revoked_at !== null || !secretMatches(parsed.secret, row.secret_hash)) {
    throw identity.error("API_KEY_INVALID", "the API key is unknown, revoked or wrong");
  }
  return {
    subject: `apikey:${row.id}`,
    roles: Role.array().parse(JSON.parse(row.roles)),
    tier: Tier.parse(row.tier),
  };
}

/** Revokes a key; revoking it again is fine, an id that never existed is API_KEY_NOT_FOUND. */
export async function revokeApiKey(ctx: IdentityContext, admin: Identity, id: string): Promise<void> {
  const result = await ctx.db
    .updateTable("api_keys")
    .set({ revoked_at: new Date().toISOString() })
    .where("id", "=", id)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) > 0) {
    ctx.log.info({ apiKey: id, by: admin.subject }, "revoked an API key");
    return;
  }
  const exists = await ctx.db.selectFrom("api_keys").select("id").where("id", "=", id).executeTakeFirst();
  if (!exists) throw identity.error("API_KEY_NOT_FOUND", `no API key ${id}`);
}
