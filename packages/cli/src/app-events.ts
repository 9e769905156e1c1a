/**
 * @module An app's events as an operator's process reaches them, beside the running app: its dead
 * letters and its event history. In-process transport: the event journal the app keeps in its data
 * directory. NATS: a connection of our own to the same server.
 */
import { resolve } from "node:path";
import { type DeadLetterStore, type EventHistory, FlotillaCodes, FlotillaError, type Transport } from "@flotilla/core";
import { eventJournalFile, openEventJournal } from "@flotilla/data";

export interface AppEvents {
  /** Where the events are, for messages: the journal file or the NATS server (without credentials). */
  readonly where: string;
  readonly deadLetters: DeadLetterStore;
  /** The retained events of these types, oldest first, up to the newest when called. */
  history(types: readonly string[]): Promise<EventHistory>;
  close(): Promise<void>;
}

/** Opens the events behind `transport` (`memory://…` or `nats://…`); `dataDir` locates the journal of `memory://`. */
export async function openAppEvents(transport: string, dataDir: string): Promise<AppEvents> {
  const url = parseUrl(transport);
  const scheme = url.protocol.replace(/:$/, "");
  if (scheme === "memory") return fromJournal(url, dataDir);
  if (scheme === "nats") return fromNats(url);
  throw FlotillaError.of(FlotillaCodes.CONFIG, `no transport for scheme "${scheme}" (known: memory, nats)`);
}

function fromJournal(url: URL, dataDir: string): AppEvents {
  if (url.searchParams.get("journal") === "off") {
    throw FlotillaError.of(
      FlotillaCodes.CONFIG,
      "memory://?journal=off keeps events inside the app's process: no other process can reach them",
    );
  }
  const file = eventJournalFile(resolve(dataDir));
  let journal: ReturnType<typeof openEventJournal>;
  try {
    journal = openEventJournal(file);
  } catch (err) {
    if (!(err instanceof FlotillaError) || err.code !== "NOT_FOUND") throw err;
    throw new FlotillaError(
      "NOT_FOUND",
      `${err.message}: pass the --data-dir the app runs with, or --transport nats://… for an app on NATS`,
      { details: err.details, cause: err },
    );
  }
  return {
    where: file,
    deadLetters: journal.deadLetters,
    history: async (types) => journal.history(types),
    close: async () => journal.close(),
  };
}

async function fromNats(url: URL): Promise<AppEvents> {
  // Loaded here: commands that never use NATS do not pay for loading its client.
  const { natsTransport } = await import("@flotilla/nats");
  const transport: Transport = natsTransport(url);
  await transport.connect();
  const { deadLetterStore, history } = transport;
  if (deadLetterStore === undefined || history === undefined) {
    await transport.close();
    throw FlotillaError.of(FlotillaCodes.CONFIG, "this NATS transport keeps no dead letters or history");
  }
  const shown = new URL(url.href);
  shown.username = "";
  shown.password = "";
  shown.search = "";
  return {
    where: shown.href,
    deadLetters: deadLetterStore,
    history: (types) => history.call(transport, types),
    close: () => transport.close(),
  };
}

function parseUrl(transport: string): URL {
  try {
    return new URL(transport);
  } catch {
    throw FlotillaError.of(
      FlotillaCodes.CONFIG,
      `transport "${transport}" is not a URL (try memory:// or nats://host:4222)`,
    );
  }
}
