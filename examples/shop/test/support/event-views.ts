/**
 * @module What the tests of the dashboard's Event flow and Dead letters views share: a real failure of the
 * notifications service's handler (its recipients table renamed away in its SQLite file, so welcoming a new
 * user fails until it is put back), the views' API, and a reader of the dashboard's event stream.
 */
import { join } from "node:path";
import Database from "better-sqlite3";
import type { Headers, Json } from "./shop-client.js";

export const WELCOME_GROUP = "notifications.userRegistered";

/** The notifications database of an app run with `dataDir` (SQLite, its default). */
function notificationsDb(dataDir: string): Database.Database {
  const db = new Database(join(dataDir, "notifications.sqlite"));
  db.pragma("busy_timeout = 5000");
  return db;
}

/** From now on the welcome handler fails (no such table) until `heal`: each new user's event dead-letters. */
export function breakWelcomes(dataDir: string): void {
  const db = notificationsDb(dataDir);
  db.exec("ALTER TABLE recipients RENAME TO recipients_away");
  db.close();
}

export function healWelcomes(dataDir: string): void {
  const db = notificationsDb(dataDir);
  db.exec("ALTER TABLE recipients_away RENAME TO recipients");
  db.close();
}

/** Whether the notifications service has welcomed this user (its welcome handler ran to the end). */
export function welcomed(dataDir: string, userId: string): boolean {
  const db = notificationsDb(dataDir);
  try {
    const row = db.prepare("SELECT count(*) AS n FROM notifications WHERE user_id = ?").get(userId) as { n: number };
    return row.n > 0;
  } finally {
    db.close();
  }
}

/** Registers a user through the shop's API; answers its id. */
export async function register(url: string, email: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: "a-long-password", name: "Grace Hopper" }),
  });
  const body = (await res.json()) as Json;
  if (res.status !== 201) throw new Error(`register ${email}: ${res.status} ${JSON.stringify(body)}`);
  return body.id;
}

/** A call of the dashboard's API: its status and JSON body. */
export async function api(
  url: string,
  auth: Headers,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${url}/_flotilla/api/${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { ...auth, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

/** Follows the dashboard's event stream for `topics`, collecting `{ event, data }` until `stop()`. */
export async function followStream(
  url: string,
  auth: Headers,
  topics: string,
): Promise<{ events: { event: string; data: Json }[]; stop(): void }> {
  const abort = new AbortController();
  const res = await fetch(`${url}/_flotilla/api/events?topics=${topics}`, { headers: auth, signal: abort.signal });
  if (res.status !== 200 || res.body === null) throw new Error(`event stream: ${res.status}`);
  const events: { event: string; data: Json }[] = [];
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) });
        }
      }
    } catch {
      // Aborted by stop().
    }
  })();
  return { events, stop: () => abort.abort() };
}
