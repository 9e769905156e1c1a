/** @module The identity service: accounts, password sign-in, ES256 access tokens with rotating keys, API keys. */
import { randomUUID } from "node:crypto";
import { defineService, type ServiceDefinition } from "@flotilla/core";
import { database } from "@flotilla/data";
import {
  createUser,
  findByEmail,
  findById,
  type IdentityContext,
  requireAdmin,
  requireCaller,
  seedDemoUsers,
} from "./accounts.js";
import { issueApiKey, revokeApiKey, verifyApiKey } from "./api-keys.js";
import { identity, Role, Tier } from "./contract.js";
import { dummyHash, hashPassword, needsRehash, verifyPassword } from "./passwords.js";
import { updateProfile } from "./profile.js";
import { type IdentityTables, identityMigrations } from "./schema.js";
import { SigningKeys } from "./signing-keys.js";
import { shopIssuer, shopJwksUri, TOKEN_ALG, tokenTtlSec } from "./token-config.js";
import { issueToken } from "./tokens.js";
import { onlineAt, usersOnlineProjection } from "./users-online.js";

export interface IdentityOptions {
  /** The tokens' `iss` (default: FLOTILLA_PUBLIC_URL, else http://localhost:8080). */
  issuer?: string;
  /** Access token lifetime in seconds (default: SHOP_TOKEN_TTL_SEC, else 15 minutes). */
  tokenTtlSec?: number;
  /** Age at which the signing key is replaced on its next use (30 days). */
  keyMaxAgeMs?: number;
  /** How long an instance reuses the signing key it read (5 s): another instance's rotation shows within it. */
  keyCacheMs?: number;
  /** Clock difference tolerated between the service and verifiers (60 s): retired keys stay published that much longer. */
  clockSkewSec?: number;
  /** Create the demo accounts on start (true). */
  seed?: boolean;
}

const DAY_MS = 24 * 3600 * 1000;

/** The service with its options; `identityService` is this with the defaults and the environment. */
export function createIdentityService(options: IdentityOptions = {}): ServiceDefinition {
  const issuer = options.issuer ?? shopIssuer();
  const ttlSec = options.tokenTtlSec ?? tokenTtlSec();
  const cacheMs = options.keyCacheMs ?? 5_000;
  const keyOptions = {
    maxAgeMs: options.keyMaxAgeMs ?? 30 * DAY_MS,
    cacheMs,
    // A retired key may still sign for up to cacheMs on instances that cached it, and its last token is
    // then valid for the TTL, give or take the verifiers' clock skew.
    retainMs: cacheMs + (ttlSec + (options.clockSkewSec ?? 60)) * 1000,
  };
  // Per instance, so two hosts in one process (tests) never sign with a key read from the other's database.
  const keysByInstance = new Map<string, SigningKeys>();
  const keys = (ctx: IdentityContext): SigningKeys => {
    const id = ctx.instance ?? "";
    const found = keysByInstance.get(id) ?? new SigningKeys(keyOptions);
    keysByInstance.set(id, found);
    return found;
  };

  return defineService(identity, {
    // Calls no other service: a call to one is refused, and its NATS credentials allow none (docs/security.md).
    calls: [],
    database: database<IdentityTables>({ migrations: identityMigrations }),
    projections: [usersOnlineProjection],

    async start(ctx) {
      await keys(ctx).current(ctx.db);
      await dummyHash();
      if (options.seed ?? true) await seedDemoUsers(ctx);
    },

    async stop(ctx) {
      keysByInstance.delete(ctx.instance ?? "");
    },

    actions: {
      async register({ email, password, name }, ctx) {
        const id = randomUUID();
        if (!(await createUser(ctx, { id, email, password, name, role: "customer", tier: "standard" }))) {
          throw identity.error("EMAIL_TAKEN", "an account with this email already exists");
        }
        return { id, email, name };
      },

      async login({ email, password }, ctx) {
        const user = await findByEmail(ctx, email);
        // An unknown email costs one hash too, and fails with the same error: neither tells who has an account.
        const ok = await verifyPassword(password, user?.password_hash ?? (await dummyHash()));
        if (user === undefined || !ok) throw identity.error("INVALID_CREDENTIALS", "email or password is wrong");
        if (needsRehash(user.password_hash)) {
          const rehashed = await hashPassword(password);
          await ctx.db
            .updateTable("users")
            .set({ password_hash: rehashed })
            .where("id", "=", user.id)
            .where("password_hash", "=", user.password_hash)
            .execute();
        }
        const key = await keys(ctx).current(ctx.db);
        const subject = { id: user.id, roles: [user.role], tier: user.tier };
        const { token, expiresAt } = await issueToken(key, subject, { issuer, ttlSec });
        await ctx.emit(identity.UserSignedIn, { userId: user.id, expiresAt: new Date(expiresAt * 1000).toISOString() });
        return { token, expiresIn: ttlSec };
      },

      async logout(_input, ctx) {
        await ctx.emit(identity.UserSignedOut, { userId: requireCaller(ctx).subject });
        return undefined;
      },

      async me(_input, ctx) {
        const { subject } = requireCaller(ctx);
        const user = await findById(ctx, subject);
        if (user === undefined) throw identity.error("USER_NOT_FOUND", "the signed-in user no longer exists");
        return {
          id: user.id,
          email: user.email,
          name: user.name,
          roles: [Role.parse(user.role)],
          tier: Tier.parse(user.tier),
        };
      },

      async updateProfile(changes, ctx) {
        // The profile is always the caller's own: there is no user id in the input to get wrong.
        if (ctx.caller === undefined) {
          throw identity.error("SIGN_IN_REQUIRED", "updating a profile needs a signed-in caller");
        }
        return updateProfile(ctx, ctx.caller.subject, changes);
      },

      async jwks(_input, ctx) {
        return { keys: await keys(ctx).publicKeys(ctx.db) };
      },

      async openidConfiguration() {
        return {
          issuer,
          jwks_uri: shopJwksUri(issuer),
          // Required members. The shop has no authorization or OAuth token endpoint (login is a plain JSON
          // action), so none is named; "id_token" and "public" describe the signed tokens it issues, as
          // Kubernetes' service-account issuer discovery does for its tokens.
          response_types_supported: ["id_token"],
          subject_types_supported: ["public"],
          id_token_signing_alg_values_supported: [TOKEN_ALG],
          claims_supported: ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "roles", "tier"],
        };
      },

      async rotateSigningKey(_input, ctx) {
        const admin = requireAdmin(ctx);
        const rotated = await keys(ctx).rotate(ctx.db);
        ctx.log.info({ ...rotated, by: admin.subject }, "rotated the token signing key");
        return rotated;
      },

      async issueApiKey(input, ctx) {
        return issueApiKey(ctx, requireAdmin(ctx), input);
      },

      async verifyApiKey({ key }, ctx) {
        return verifyApiKey(ctx, key);
      },

      async revokeApiKey({ id }, ctx) {
        await revokeApiKey(ctx, requireAdmin(ctx), id);
        return undefined;
      },

      async usersOnline(_input, ctx) {
        const rows = await onlineAt(ctx.db, new Date());
        return { count: rows.length, users: rows.map((r) => ({ userId: r.user_id, since: r.since, until: r.until })) };
      },
    },
  });
}

export const identityService = createIdentityService();
