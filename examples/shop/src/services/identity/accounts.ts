/** @module User accounts in the identity database: creation (with UserRegistered), lookup and the demo seed. */
import { type Context, FlotillaError, type Identity } from "@flotilla/core";
import { isUniqueViolation } from "@flotilla/data";
import type { Kysely } from "kysely";
import { identity } from "./contract.js";
import { hashPassword } from "./passwords.js";
import type { IdentityTables } from "./schema.js";
import { demoUsers } from "./seed.js";

export type IdentityContext = Context<Kysely<IdentityTables>>;
export type UserRow = IdentityTables["users"];

export interface NewUser {
  id: string;
  email: string;
  password: string;
  name: string;
  role: string;
  tier: string;
}

/**
 * Inserts the user and emits UserRegistered in one transaction (the event goes through the outbox).
 * Returns false when the email or id is taken; only then is nothing emitted.
 */
export async function createUser(ctx: IdentityContext, user: NewUser): Promise<boolean> {
  const row: UserRow = {
    id: user.id,
    email: user.email,
    name: user.name,
    password_hash: await hashPassword(user.password),
    role: user.role,
    tier: user.tier,
    created_at: new Date().toISOString(),
    address_street: null,
    address_city: null,
    address_country: null,
  };
  try {
    await ctx.db.transaction().execute(async (trx) => {
      await trx.insertInto("users").values(row).execute();
      await ctx.emit(identity.UserRegistered, { userId: row.id, email: row.email, name: row.name });
    });
    return true;
  } catch (err) {
    // A unique violation rolled the transaction back, outbox row included: nothing to undo.
    if (isUniqueViolation(err)) return false;
    throw err;
  }
}

export function findByEmail(ctx: IdentityContext, email: string): Promise<UserRow | undefined> {
  return ctx.db.selectFrom("users").selectAll().where("email", "=", email).executeTakeFirst();
}

export function findById(ctx: IdentityContext, id: string): Promise<UserRow | undefined> {
  return ctx.db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
}

/**
 * Creates the demo accounts that do not exist yet. Safe on every start and with instances starting
 * together: the loser of a race hits the unique email and skips that account (and its event).
 */
export async function seedDemoUsers(ctx: IdentityContext): Promise<number> {
  let created = 0;
  for (const demo of demoUsers) {
    // Checked first so a restart does not pay three password hashes for nothing.
    if (await findByEmail(ctx, demo.email)) continue;
    if (await createUser(ctx, demo)) created++;
  }
  if (created > 0) ctx.log.info({ users: created }, "seeded the demo accounts");
  return created;
}

/** The caller the gateway authenticated, or UNAUTHENTICATED. */
export function requireCaller(ctx: IdentityContext): Identity {
  if (ctx.caller === undefined) throw new FlotillaError("UNAUTHENTICATED", "sign in first");
  return ctx.caller;
}

/** The caller, if it holds the admin role; PERMISSION_DENIED otherwise. */
export function requireAdmin(ctx: IdentityContext): Identity {
  const caller = requireCaller(ctx);
  if (!caller.roles.includes("admin")) throw new FlotillaError("PERMISSION_DENIED", "this needs the admin role");
  return caller;
}
