/**
 * @module One service, one database: every instance of a service answers, on `flotilla.db.<service>`,
 * which database it uses, and a starting instance asks its running peers before it opens its own. No
 * bucket, no TTL: an instance that stops or dies stops answering as soon as its connection is gone.
 */
import { hostname } from "node:os";
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import { unavailable } from "@flotilla/core/internal";
import { type Msg, type NatsConnection, nuid, type Subscription } from "@nats-io/transport-node";

/** Subjects of the database probes: `flotilla.db.<service>`. */
export const DATABASE_PREFIX = "flotilla.db.";

/** The database one service of this process uses: a non-secret identity, equal for instances that share it. */
export interface DatabaseClaim {
  readonly service: string;
  /** `sqlite:<host>:<absolute file>` or `postgres://host:port/db?schema=…` (never a password). */
  readonly database: string;
}

/** A running instance of the same service, as it answered a probe. */
export interface DatabasePeer {
  readonly service: string;
  readonly database: string;
  readonly host: string;
  readonly pid: number;
}

export interface DatabasePeersOptions {
  /**
   * How long to wait for more answers after the last one (default 250 ms). This instance's own answer
   * comes first, so a service with no other instance is checked within this wait.
   */
  quietMs?: number;
  /** Bound on one probe (default 3 s). */
  timeoutMs?: number;
}

/** Answers peers' probes while this process runs its services; `close()` stops answering. */
export interface DatabaseGuard {
  close(): Promise<void>;
}

interface Probe {
  readonly from: string;
}

/**
 * Starts answering probes for each claim, then probes each service's running instances. Resolves once
 * no peer uses another database; rejects with FLOTILLA_DATABASE_MISMATCH (naming the databases and how
 * to share one) when one does, and with UNAVAILABLE when the probe cannot be made (e.g. the NATS user
 * may not use `flotilla.db.<service>`). Two differently configured instances starting at the same moment
 * may both refuse: neither runs on a second database.
 */
export async function guardDatabases(
  nc: NatsConnection,
  claims: readonly DatabaseClaim[],
  options: DatabasePeersOptions = {},
): Promise<DatabaseGuard> {
  const self = { id: nuid.next(), host: hostname(), pid: process.pid };
  const subscriptions: Subscription[] = claims.map((claim) =>
    nc.subscribe(`${DATABASE_PREFIX}${claim.service}`, {
      callback: (err, msg) => {
        if (err === null) answer(msg, claim, self);
      },
    }),
  );
  const close = async () => {
    for (const s of subscriptions) s.unsubscribe();
  };
  try {
    // The subscriptions are in place at the server before any probe: of two instances starting at once,
    // at least one sees the other.
    await nc.flush();
    const peers = await Promise.all(claims.map((claim) => probe(nc, claim, self.id, options)));
    const conflicts = claims.flatMap((claim, i) =>
      (peers[i] ?? []).filter((p) => p.database !== claim.database).map((p) => ({ claim, peer: p })),
    );
    if (conflicts.length > 0) throw mismatch(conflicts);
  } catch (err) {
    await close();
    throw err;
  }
  return { close };
}

function answer(msg: Msg, claim: DatabaseClaim, self: { id: string; host: string; pid: number }): void {
  let from: unknown;
  try {
    from = msg.json<Probe>().from;
  } catch {
    return; // not a probe
  }
  const peer: DatabasePeer & { self: boolean } = {
    service: claim.service,
    database: claim.database,
    host: self.host,
    pid: self.pid,
    self: from === self.id,
  };
  msg.respond(JSON.stringify(peer));
}

/** The service's other instances, as they answer within the quiet wait after the last answer. */
async function probe(
  nc: NatsConnection,
  claim: DatabaseClaim,
  id: string,
  options: DatabasePeersOptions,
): Promise<DatabasePeer[]> {
  const subject = `${DATABASE_PREFIX}${claim.service}`;
  const peers: DatabasePeer[] = [];
  let answeredSelf = false;
  try {
    const replies = await nc.requestMany(subject, JSON.stringify({ from: id } satisfies Probe), {
      strategy: "stall",
      stall: options.quietMs ?? 250,
      maxWait: options.timeoutMs ?? 3_000,
    });
    for await (const reply of replies) {
      const peer = decodePeer(reply);
      if (peer === undefined) continue;
      if (peer.self) answeredSelf = true;
      else peers.push(peer);
    }
  } catch (err) {
    throw unavailable(`${claim.service}: cannot ask its other instances which database they use (${subject})`, err);
  }
  if (!answeredSelf) {
    // Our own answer never came back: the connection may not use the subject, so nothing was checked.
    throw unavailable(
      `${claim.service}: no answer on ${subject}, so its other instances' databases are unknown; ` +
        "a NATS user needs publish and subscribe on it (flotilla nats-config writes them)",
    );
  }
  return peers;
}

function decodePeer(msg: Msg): (DatabasePeer & { self: boolean }) | undefined {
  try {
    const value = msg.json<Record<string, unknown>>();
    const valid =
      typeof value.service === "string" &&
      typeof value.database === "string" &&
      typeof value.host === "string" &&
      typeof value.pid === "number";
    return valid ? (value as unknown as DatabasePeer & { self: boolean }) : undefined;
  } catch {
    return undefined; // a no-responders status or a stranger's message
  }
}

function mismatch(conflicts: readonly { claim: DatabaseClaim; peer: DatabasePeer }[]): FlotillaError {
  const lines = conflicts.map(
    ({ claim, peer }) =>
      `${claim.service}: this instance would use ${claim.database}, but its instance pid ${peer.pid} on ${peer.host} uses ${peer.database}`,
  );
  const services = [...new Set(conflicts.map((c) => c.claim.service))];
  const vars = services.map((s) => `FLOTILLA_DB_${s.toUpperCase().replaceAll("-", "_")}`).join(", ");
  return FlotillaError.of(
    FlotillaCodes.DATABASE_MISMATCH,
    `${lines.join("; ")}. One service keeps one database: every instance must use the same one. ` +
      `To run several instances, share a PostgreSQL database: set ${vars} (or FLOTILLA_DB) to the same ` +
      "postgres:// URL in every instance (docs/deployment.md).",
    { details: conflicts.map(({ claim, peer }) => ({ service: claim.service, database: claim.database, peer })) },
  );
}
