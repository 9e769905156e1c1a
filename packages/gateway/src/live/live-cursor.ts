/**
 * @module Live message ids: where the caller is in each event stream's history. An event's position is
 * one stream's sequence (a JetStream stream per emitting service, or the one in-process journal), so
 * an id names one sequence per stream, `FLOTILLA_EVT_ORDERS:17,FLOTILLA_EVT_NOTIFICATIONS:5`: any
 * gateway reading the same transport can resume from it.
 */
import { FlotillaError } from "@flotilla/core";
import { LiveCodes } from "./live-options.js";

/** stream → the last sequence the caller has been given (or had nothing to be given up to). */
export type Cursor = Map<string, number>;

const STREAM = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_STREAMS = 32;
const MAX_LENGTH = 2_048;

export function formatCursor(cursor: Cursor): string {
  let id = "";
  for (const [stream, seq] of cursor) id += id === "" ? `${stream}:${seq}` : `,${stream}:${seq}`;
  return id;
}

/** Parses a `Last-Event-ID`; INVALID_ARGUMENT for anything this endpoint could not have sent. */
export function parseCursor(id: string): Cursor {
  const cursor: Cursor = new Map();
  if (id === "") return cursor;
  const parts = id.length > MAX_LENGTH ? [] : id.split(",");
  if (parts.length === 0 || parts.length > MAX_STREAMS) throw bad();
  for (const part of parts) {
    const at = part.lastIndexOf(":");
    const stream = part.slice(0, at);
    const digits = part.slice(at + 1);
    const seq = Number(digits);
    if (at <= 0 || !STREAM.test(stream) || !/^\d{1,15}$/.test(digits) || seq < 1 || cursor.has(stream)) throw bad();
    cursor.set(stream, seq);
  }
  return cursor;
}

/** Raises `cursor` to at least `other`'s sequence in each stream. */
export function advance(cursor: Cursor, other: ReadonlyMap<string, number>): void {
  for (const [stream, seq] of other) if ((cursor.get(stream) ?? 0) < seq) cursor.set(stream, seq);
}

function bad(): FlotillaError {
  return FlotillaError.of(LiveCodes.BAD_LAST_EVENT_ID, "Last-Event-ID is not an id of this endpoint");
}
