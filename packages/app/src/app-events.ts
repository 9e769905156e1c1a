/**
 * @module An app's events as an operator's process reaches them, beside the running app: its dead
 * letters and its event history. In-process transport: the event journal the app keeps in its data
 * directory. NATS: a connection of our own to the same server. Also exported as `@flotilla/app/events`,
 * which operators' commands import without loading the gateway and telemetry.
 */
import { resolve } from "node:path";
import {
  type DeadLetterStore,
  type EventHistory,
  FlotillaCodes,
  FlotillaError,
  resolveTransport,
  type Transport,
} from "@flotilla/core";
import { eventJournalFile } from "@flotilla/data";
import { appTransports } from "./app-transports.js";

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
  let opened: Transport;
  try {
    opened = resolveTransport(transport, appTransports(resolve(dataDir), { existingJournal: true }));
  } catch (err) {
    if (!(err instanceof FlotillaError) || err.code !== "NOT_FOUND") throw err;
    throw new FlotillaError(
      "NOT_FOUND",
      `${err.message}: pass the --data-dir the app runs with, or --transport nats://… for an app on NATS`,
      { details: err.details, cause: err },
    );
  }
  await opened.connect();
  const { deadLetterStore, history } = opened;
  if (deadLetterStore === undefined || history === undefined) {
    await opened.close();
    throw FlotillaError.of(FlotillaCodes.CONFIG, `the ${opened.name} transport keeps no dead letters or history`);
  }
  return {
    where: where(transport, dataDir, opened),
    deadLetters: deadLetterStore,
    history: (types) => history.call(opened, types),
    close: () => opened.close(),
  };
}

/** The journal file, or the server's URL without credentials or options. */
function where(transport: string, dataDir: string, opened: Transport): string {
  if (opened.name === "memory") return eventJournalFile(resolve(dataDir));
  const shown = new URL(transport);
  shown.username = "";
  shown.password = "";
  shown.search = "";
  return shown.href;
}
