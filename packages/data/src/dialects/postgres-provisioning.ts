/** @module Prepares PostgreSQL for a service: its database if missing, or its own role and schema on a shared one. */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import pg from "pg";

const { escapeIdentifier: ident, escapeLiteral: literal } = pg;
const SYSTEM_SCHEMA = "nspname like 'pg\\_%' or nspname = 'information_schema'";

/** A role's password from a secret: every instance derives the same one, and none is stored anywhere. */
export function derivedPassword(secret: string, role: string): string {
  return createHmac("sha256", secret).update(`flotilla-role:${role}`).digest("base64url");
}

/**
 * Creates (or brings back in line) role `names.role` and schema `names.schema` owned by it, then takes
 * away what the role could reach besides: a service reads and writes its own schema and nothing else.
 * Runs as the admin URL's user: a superuser, or the database's owner with CREATEROLE.
 */
export async function provisionRoleAndSchema(
  adminUrl: string,
  names: { role: string; schema: string },
  password: string | undefined,
): Promise<void> {
  const [role, schema] = [ident(names.role), ident(names.schema)];
  await withClient(adminUrl, async (client) => {
    await client.query("begin");
    // Concurrent role changes fail with "tuple concurrently updated", so instances provision one at a time.
    await client.query("select pg_advisory_xact_lock(hashtext('flotilla:provision'))");
    const me = await one(
      client,
      "select current_database() as db, rolsuper from pg_roles where rolname = current_user",
    );
    const db = ident(me.db as string);
    const found = await client.query("select rolsuper or rolbypassrls as unsafe from pg_roles where rolname = $1", [
      names.role,
    ]);
    if (found.rows[0]?.unsafe === true) {
      throw FlotillaError.of(FlotillaCodes.CONFIG, `role ${names.role} is a superuser or bypasses row security`);
    }
    // A SCRAM verifier rather than the password itself, which the server could log with the statement.
    const secret = password === undefined ? "" : ` password ${literal(scramVerifier(password))}`;
    await client.query(
      found.rowCount === 0 ? `create role ${role} login noinherit${secret}` : `alter role ${role} login${secret}`,
    );
    // PostgreSQL 15 lets a non-superuser create a schema for another role only as a member of it.
    if (me.rolsuper !== true) await client.query(`grant ${role} to current_user`);
    const owner = await client.query("select pg_get_userbyid(nspowner) as owner from pg_namespace where nspname = $1", [
      names.schema,
    ]);
    if (owner.rowCount === 0) await client.query(`create schema ${schema} authorization ${role}`);
    else if (owner.rows[0].owner !== names.role) {
      throw FlotillaError.of(
        FlotillaCodes.CONFIG,
        `schema ${names.schema} exists and belongs to ${owner.rows[0].owner}`,
      );
    }
    const memberships = await client.query(
      "select m.roleid::regrole::text as granted from pg_auth_members m where m.member = $1::regrole",
      [names.role],
    );
    const others = await client.query(
      `select nspname from pg_namespace where not (${SYSTEM_SCHEMA}) and nspname <> $1`,
      [names.schema],
    );
    await client.query(
      [
        `alter role ${role} in database ${db} set search_path = ${schema}`,
        `revoke all on database ${db} from ${role}`,
        `grant connect on database ${db} to ${role}`,
        // Privileges granted to PUBLIC cannot be taken from one role, so public is closed to everyone but its owner.
        "revoke all on schema public from public",
        ...memberships.rows.map((r) => `revoke ${r.granted} from ${role}`),
        ...others.rows.flatMap((r) => {
          const other = ident(r.nspname);
          return ["schema", "all tables in schema", "all sequences in schema", "all routines in schema"].map(
            (what) => `revoke all on ${what} ${other} from ${role}`,
          );
        }),
        "commit",
      ].join(";\n"),
    );
  });
}

/** Creates the URL's database when it does not exist yet, connecting to the `postgres` database to do so. */
export async function ensureDatabase(url: string): Promise<void> {
  try {
    await withClient(url, async () => {});
    return;
  } catch (err) {
    if ((err as { code?: unknown }).code !== "3D000") throw err;
  }
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  target.pathname = "/postgres";
  await withClient(target.href, (client) => client.query(`create database ${ident(name)}`)).catch((err: unknown) => {
    // Another instance created it first: 42P04 once it committed, 23505 while it was committing.
    const code = (err as { code?: unknown }).code;
    if (code !== "42P04" && code !== "23505") throw err;
  });
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await work(client);
  } catch (err) {
    await client.query("rollback").catch(() => {});
    throw err;
  } finally {
    await client.end();
  }
}

async function one(client: pg.Client, text: string): Promise<Record<string, unknown>> {
  const { rows } = await client.query(text);
  return rows[0] as Record<string, unknown>;
}

/**
 * What `\password` in psql sends: SCRAM-SHA-256 with a fresh salt, 4096 iterations (RFC 7677). No
 * SASLprep: pg, the client that will log in with it, does not apply it either.
 */
function scramVerifier(password: string): string {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password, salt, 4096, 32, "sha256");
  const hmac = (key: Buffer, text: string) => createHmac("sha256", key).update(text).digest();
  const storedKey = createHash("sha256").update(hmac(salted, "Client Key")).digest("base64");
  const serverKey = hmac(salted, "Server Key").toString("base64");
  return `SCRAM-SHA-256$4096:${salt.toString("base64")}$${storedKey}:${serverKey}`;
}
