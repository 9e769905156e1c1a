/**
 * @module Real live-push clients for tests: an EventSource (the `eventsource` package, headers through its
 * `fetch` option) and a WebSocket (`ws`), each collecting the messages it receives.
 */
import { waitFor } from "@flotilla/testing";
import { EventSource } from "eventsource";
import WebSocket from "ws";

export interface LiveMessage {
  id: string;
  type: string;
  eventId: string;
  data: Record<string, unknown>;
}

export interface LiveClient {
  readonly messages: LiveMessage[];
  /** The id of the `ready` message: the position the connection started (or resumed) at. */
  readonly readyId: string;
  /** Resolves with the first message that matches, once it arrives. */
  next(match: (m: LiveMessage) => boolean, what: string): Promise<LiveMessage>;
  close(): void;
}

function collector(messages: LiveMessage[]) {
  return (match: (m: LiveMessage) => boolean, what: string) =>
    waitFor(() => messages.some(match), { timeoutMs: 30_000, intervalMs: 20, what }).then(
      () => messages.find(match) as LiveMessage,
    );
}

/** Opens `GET /api/v1/live` as an EventSource with a Bearer token; resolves once the stream is `ready`. */
export async function openEventSource(
  baseUrl: string,
  token: string,
  headers: Record<string, string> = {},
): Promise<LiveClient & { readonly source: EventSource }> {
  const messages: LiveMessage[] = [];
  const source = new EventSource(`${baseUrl}/api/v1/live`, {
    fetch: (input, init) =>
      fetch(input, { ...init, headers: { ...init.headers, ...headers, authorization: `Bearer ${token}` } }),
  });
  source.onmessage = (e) => messages.push(JSON.parse(e.data));
  const readyId = await new Promise<string>((resolve, reject) => {
    source.addEventListener("ready", (e) => resolve(e.lastEventId));
    source.onerror = (e) => {
      if (source.readyState === EventSource.CLOSED) reject(new Error(`EventSource failed: ${e.code} ${e.message}`));
    };
  });
  return { source, messages, readyId, next: collector(messages), close: () => source.close() };
}

/** Opens the same path as a WebSocket, the token in `access_token` (as browsers must); resolves once `ready`. */
export async function openWebSocket(baseUrl: string, token: string, lastEventId?: string): Promise<LiveClient> {
  const messages: LiveMessage[] = [];
  const url = new URL("/api/v1/live", baseUrl.replace(/^http/, "ws"));
  url.searchParams.set("access_token", token);
  if (lastEventId !== undefined) url.searchParams.set("lastEventId", lastEventId);
  const socket = new WebSocket(url);
  const readyId = await new Promise<string>((resolve, reject) => {
    socket.on("message", (raw) => {
      const message = JSON.parse(String(raw));
      if (message.type === "ready") resolve(message.id);
      else messages.push(message);
    });
    socket.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    socket.once("error", reject);
  });
  return { messages, readyId, next: collector(messages), close: () => socket.close() };
}

export function tokenOf(auth: Record<string, string>): string {
  return (auth.authorization as string).slice("Bearer ".length);
}
