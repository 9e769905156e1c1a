/** @module The identity service's own tables and their migrations. */
import type { Kysely } from "kysely";

export interface IdentityTables {
  users: {
    id: string;
    /** Lowercase; unique. */
    email: string;
    name: string;
    /** `$scrypt$ln=…,r=…,p=…$salt$hash` (see passwords.ts). */
    password_hash: string;
    role: string;
    tier: string;
    created_at: string;
    /** The postal address (see profile.ts): all three set, or all three null. */
    address_street: string | null;
    address_city: string | null;
    address_country: string | null;
  };
  signing_keys: {
    kid: string;
    /** 1 for the first key, +1 per rotation; unique, so two instances cannot both create or rotate. */
    generation: number;
    alg: string;
    private_jwk: string;
    public_jwk: string;
    created_at: string;
    retired_at: string | null;
  };
  api_keys: {
    id: string;
    name: string;
    /** Hex SHA-256 of the key's secret part (see api-keys.ts for why not a slow KDF). */
    secret_hash: string;
    /** JSON array of role names. */
    roles: string;
    tier: string;
    created_at: string;
    revoked_at: string | null;
  };
  /** The `users-online` projection, from UserSignedIn and UserSignedOut. */
  users_online: {
    user_id: string;
    since: string;
    /** Online while this is in the future; a sign-out sets it to the sign-out time. */
    until: string;
    /** Emission time of the last event applied, so an older event arriving late changes nothing. */
    event_time: string;
  };
}

// Migrations are written against Kysely<any>: they describe history, not today's types.
// biome-ignore lint/suspicious/noExplicitAny: see above
type AnyDb = Kysely<any>;

export const identityMigrations = {
  "001_users": {
    async up(db: AnyDb): Promise<void> {
      await db.schema
        .createTable("users")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("email", "text", (c) => c.notNull().unique())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("password_hash", "text", (c) => c.notNull())
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("tier", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .execute();
    },
  },
  "002_signing_keys": {
    async up(db: AnyDb): Promise<void> {
      await db.schema
        .createTable("signing_keys")
        .addColumn("kid", "text", (c) => c.primaryKey())
        .addColumn("generation", "integer", (c) => c.notNull().unique())
        .addColumn("alg", "text", (c) => c.notNull())
        .addColumn("private_jwk", "text", (c) => c.notNull())
        .addColumn("public_jwk", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("retired_at", "text")
        .execute();
    },
  },
  "003_api_keys": {
    async up(db: AnyDb): Promise<void> {
      await db.schema
        .createTable("api_keys")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("secret_hash", "text", (c) => c.notNull())
        .addColumn("roles", "text", (c) => c.notNull())
        .addColumn("tier", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("revoked_at", "text")
        .execute();
    },
  },
  "004_users_online": {
    async up(db: AnyDb): Promise<void> {
      await db.schema
        .createTable("users_online")
        .addColumn("user_id", "text", (c) => c.primaryKey())
        .addColumn("since", "text", (c) => c.notNull())
        .addColumn("until", "text", (c) => c.notNull())
        .addColumn("event_time", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("users_online_until").on("users_online").column("until").execute();
    },
  },
  "005_user_address": {
    async up(db: AnyDb): Promise<void> {
      // One column per statement: SQLite's ALTER TABLE adds one at a time.
      for (const column of ["address_street", "address_city", "address_country"]) {
        await db.schema.alterTable("users").addColumn(column, "text").execute();
      }
    },
  },
};
