/**
 * @module A service's own database opened beside (or without) a running host, for tests that drive a
 * service's functions directly: the same provider, dialect and migrations the host would use.
 */
import { createLogger, type EventRef, type ResourceHandle, type ServiceDefinition } from "@flotilla/core";
import { databaseProvider, type Kysely } from "@flotilla/data";

export interface OpenedDatabase<DB> {
  readonly db: Kysely<DB>;
  close(): Promise<void>;
}

/**
 * Opens (and migrates) `service`'s database at `url` (`sqlite::memory:` for a private one, or a
 * `postgres://` URL), without an outbox relay: nothing it emits through a real context is published.
 */
export async function openServiceDatabase<DB>(
  service: ServiceDefinition,
  url: string,
  instance = `${service.name}-test`,
): Promise<OpenedDatabase<DB>> {
  if (service.database === undefined) throw new Error(`${service.name} declares no database`);
  const owner = {
    service: service.name,
    instance,
    log: createLogger({ level: "silent" }),
    transport: { name: "none", send: () => Promise.resolve() },
  };
  const handle: ResourceHandle = await databaseProvider(url, { relay: false }).open(service.database, owner);
  return { db: handle.value as Kysely<DB>, close: () => handle.close() };
}

export interface RecordedEvent {
  type: string;
  data: Record<string, unknown>;
}

/** An `emit` that records what a service's function emitted, in place of a context's outbox. */
export function recordingEmit(): {
  emit: <R extends EventRef>(ref: R, data: unknown) => Promise<void>;
  events: RecordedEvent[];
} {
  const events: RecordedEvent[] = [];
  return {
    events,
    emit: async (ref, data) => {
      events.push({ type: ref.type, data: data as Record<string, unknown> });
    },
  };
}
