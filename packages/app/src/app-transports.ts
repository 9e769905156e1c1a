/**
 * @module The transports an app runs on, by URL scheme, for `resolveTransport`: `memory://` keeps
 * in-process events in the data directory's event journal, `nats://` connects to NATS. The app's
 * processes and an operator's commands (`flotilla dlq`, `flotilla replay`) resolve URLs through these.
 */
import { FlotillaCodes, FlotillaError, MemoryTransport, type Transport, type TransportFactory } from "@flotilla/core";
import { memoryTransportOptions } from "@flotilla/core/internal";
import { eventJournalFile, openEventJournal, sqliteEventJournal } from "@flotilla/data";
import { MEMORY } from "@flotilla/data/internal";
import { natsTransport } from "@flotilla/nats";

export interface AppTransportOptions {
  /**
   * An operator's process beside the app: `memory://` opens the journal the app keeps and fails with
   * NOT_FOUND when there is none, rather than starting an empty one.
   */
  existingJournal?: boolean;
}

/** Factories for `resolveTransport(url, appTransports(dataDir))`. */
export function appTransports(dataDir: string, options: AppTransportOptions = {}): Record<string, TransportFactory> {
  return {
    memory: (url) => memoryTransport(url, dataDir, options.existingJournal ?? false),
    nats: natsTransport,
  };
}

/**
 * `memory://…` with the event journal in `dataDir` (so a killed process loses no event); with
 * `journal=off`, or a `:memory:` data directory, events live in this process only.
 */
function memoryTransport(url: URL, dataDir: string, existingJournal: boolean): Transport {
  const journal = url.searchParams.get("journal");
  if (journal !== null && journal !== "off") {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `transport ${url.href}: journal can only be "off" (default: on)`);
  }
  const options = memoryTransportOptions(url);
  if (existingJournal && (journal === "off" || dataDir === MEMORY)) {
    throw FlotillaError.of(
      FlotillaCodes.CONFIG,
      "memory://?journal=off keeps events inside the app's process: no other process can reach them",
    );
  }
  if (journal === "off" || dataDir === MEMORY) return new MemoryTransport(options);
  const file = eventJournalFile(dataDir);
  return new MemoryTransport({
    ...options,
    journal: existingJournal ? openEventJournal(file) : sqliteEventJournal(file),
  });
}
