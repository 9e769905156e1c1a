/** @module The token signing keys: kept in the identity database, rotated, and published as a JWKS. */
import { isUniqueViolation } from "@flotilla/data";
import { type CryptoKey, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import type { Kysely } from "kysely";
import type { IdentityTables } from "./schema.js";
import { TOKEN_ALG } from "./token-config.js";

type Db = Kysely<IdentityTables>;
type KeyRow = IdentityTables["signing_keys"];

export interface SigningKeyOptions {
  /** A signing key older than this is replaced when it is next used (30 days by default). */
  maxAgeMs: number;
  /** How long a retired key stays published: the last token it signed must have expired by then. */
  retainMs: number;
  /** How long an instance reuses the key it read, before asking the database again. */
  cacheMs: number;
}

export interface ActiveKey {
  readonly kid: string;
  readonly generation: number;
  readonly createdAt: number;
  readonly privateKey: CryptoKey;
}

/** A published key: public members only, so nothing secret can reach `/.well-known/jwks.json`. */
export interface PublicKey {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
  kid: string;
  alg: "ES256";
  use: "sig";
}

/** One per service instance: its cache must not outlive the database it was read from. */
export class SigningKeys {
  private cached: { key: ActiveKey; until: number } | undefined;

  constructor(private readonly options: SigningKeyOptions) {}

  /** The key to sign with now; creates the first one, and rotates one that grew too old. */
  async current(db: Db): Promise<ActiveKey> {
    const now = Date.now();
    let key = this.cached && now < this.cached.until ? this.cached.key : await this.load(db);
    if (now - key.createdAt > this.options.maxAgeMs) key = await this.rotateFrom(db, key.generation);
    return key;
  }

  /** Retires the newest key and signs with a fresh one from now on. */
  async rotate(db: Db): Promise<{ kid: string; retired: string | null }> {
    const before = await newest(db);
    const key = await this.rotateFrom(db, before?.generation ?? 0);
    return { kid: key.kid, retired: before && before.kid !== key.kid ? before.kid : null };
  }

  /** Keys that may have signed a token that is still valid, newest first. */
  async publicKeys(db: Db): Promise<PublicKey[]> {
    const publishedAfter = new Date(Date.now() - this.options.retainMs).toISOString();
    const rows = await db
      .selectFrom("signing_keys")
      .select(["kid", "public_jwk"])
      .where((eb) => eb.or([eb("retired_at", "is", null), eb("retired_at", ">", publishedAfter)]))
      .orderBy("generation", "desc")
      .execute();
    return rows.map((row) => {
      const jwk = JSON.parse(row.public_jwk) as JWK;
      // Members picked one by one rather than the stored object spread: a private member can never slip in.
      return { kty: "EC", crv: "P-256", x: String(jwk.x), y: String(jwk.y), kid: row.kid, alg: "ES256", use: "sig" };
    });
  }

  private async load(db: Db): Promise<ActiveKey> {
    const row = await newest(db);
    if (row !== undefined && row.retired_at === null) return this.remember(await activate(row));
    return this.rotateFrom(db, row?.generation ?? 0);
  }

  /**
   * Inserts generation `after + 1` and retires everything older, in one transaction. The generation is
   * unique, so when instances race (the first start, or two rotating an expired key) one insert wins and
   * the others read the winner's key instead of adding their own.
   */
  private async rotateFrom(db: Db, after: number): Promise<ActiveKey> {
    const row = await newKeyRow(after + 1);
    try {
      await db.transaction().execute(async (trx) => {
        await trx.insertInto("signing_keys").values(row).execute();
        await trx
          .updateTable("signing_keys")
          .set({ retired_at: row.created_at })
          .where("retired_at", "is", null)
          .where("generation", "<", row.generation)
          .execute();
      });
    } catch (err) {
      // On PostgreSQL the violation aborted the transaction: read the winner after it rolled back.
      if (!isUniqueViolation(err)) throw err;
      const winner = await newest(db);
      if (winner === undefined || winner.retired_at !== null) throw err;
      return this.remember(await activate(winner));
    }
    return this.remember(await activate(row));
  }

  private remember(key: ActiveKey): ActiveKey {
    this.cached = { key, until: Date.now() + this.options.cacheMs };
    return key;
  }
}

function newest(db: Db): Promise<KeyRow | undefined> {
  return db.selectFrom("signing_keys").selectAll().orderBy("generation", "desc").limit(1).executeTakeFirst();
}

async function newKeyRow(generation: number): Promise<KeyRow> {
  const { privateKey, publicKey } = await generateKeyPair(TOKEN_ALG, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return {
    // RFC 7638 thumbprint: a kid derived from the key itself, unique without coordination.
    kid: await calculateJwkThumbprint(publicJwk),
    generation,
    alg: TOKEN_ALG,
    private_jwk: JSON.stringify(await exportJWK(privateKey)),
    public_jwk: JSON.stringify(publicJwk),
    created_at: new Date().toISOString(),
    retired_at: null,
  };
}

async function activate(row: KeyRow): Promise<ActiveKey> {
  const privateKey = await importJWK(JSON.parse(row.private_jwk) as JWK, TOKEN_ALG);
  if (privateKey instanceof Uint8Array) throw new Error(`signing key ${row.kid} is not an EC private key`);
  return { kid: row.kid, generation: row.generation, createdAt: Date.parse(row.created_at), privateKey };
}
