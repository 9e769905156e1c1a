/** @module The caller's own profile (name and postal address): changes, and UserUpdated for the services that keep a copy. */
import type { OutputOf } from "@flotilla/core";
import type { z } from "zod";
import type { IdentityContext, UserRow } from "./accounts.js";
import { identity } from "./contract.js";
import type { IdentityTables } from "./schema.js";

export type Profile = OutputOf<typeof identity.updateProfile>;
/** Absent members stay as they are; `address: null` removes the address. */
export type ProfileChanges = z.output<typeof identity.updateProfile.input>;

type UserChanges = Partial<
  Pick<IdentityTables["users"], "name" | "address_street" | "address_city" | "address_country">
>;

/**
 * Applies the changes and emits UserUpdated with the whole profile in the same transaction (the
 * outbox), so a copy kept elsewhere is replaced, never patched. A request that changes nothing
 * writes nothing and emits nothing: copies elsewhere are already right.
 */
export async function updateProfile(ctx: IdentityContext, userId: string, changes: ProfileChanges): Promise<Profile> {
  return ctx.db.transaction().execute(async (trx) => {
    const before = await trx.selectFrom("users").selectAll().where("id", "=", userId).executeTakeFirst();
    if (before === undefined) throw identity.error("USER_NOT_FOUND", "the signed-in user no longer exists");
    const set = columnChanges(before, changes);
    if (Object.keys(set).length === 0) return toProfile(before);
    await trx.updateTable("users").set(set).where("id", "=", userId).execute();
    // Read back rather than merged in memory: on PostgreSQL a concurrent update of the other member
    // committed before our row lock was granted, and the event must carry both.
    const after = await trx.selectFrom("users").selectAll().where("id", "=", userId).executeTakeFirstOrThrow();
    const profile = toProfile(after);
    await ctx.emit(identity.UserUpdated, profile);
    return profile;
  });
}

export function toProfile(user: UserRow): Profile {
  const { address_street: street, address_city: city, address_country: country } = user;
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    address: street !== null && city !== null && country !== null ? { street, city, country } : null,
  };
}

function columnChanges(user: UserRow, { name, address }: ProfileChanges): UserChanges {
  const set: UserChanges = {};
  if (name !== undefined && name !== user.name) set.name = name;
  if (address !== undefined) {
    const columns = {
      address_street: address?.street ?? null,
      address_city: address?.city ?? null,
      address_country: address?.country ?? null,
    };
    if (Object.entries(columns).some(([column, value]) => user[column as keyof typeof columns] !== value)) {
      Object.assign(set, columns);
    }
  }
  return set;
}
