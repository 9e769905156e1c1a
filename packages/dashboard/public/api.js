// The dashboard's client of its own API: JSON reads and the event stream, with the admin token if one was given.

const TOKEN_KEY = "flotilla.dashboard.token";

/** The bearer token given on this tab, or "" (in development the API may need none). */
export function savedToken() {
  return sessionStorage.getItem(TOKEN_KEY) ?? "";
}

export function saveToken(token) {
  if (token === "") sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

function headers(extra = {}) {
  const token = savedToken();
  return token === "" ? extra : { ...extra, authorization: `Bearer ${token}` };
}

/** A refusal of the API, with the gateway's error code (UNAUTHENTICATED, PERMISSION_DENIED, …). */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function refusal(res) {
  let body = {};
  try {
    body = await res.json();
  } catch {
    // Not the gateway's error shape: the status alone tells.
  }
  const error = body.error ?? {};
  return new ApiError(res.status, error.code ?? `HTTP_${res.status}`, error.message ?? res.statusText);
}

/** GET a JSON document of the API, e.g. `getJson("topology")`. */
export async function getJson(name) {
  const res = await fetch(`/_flotilla/api/${name}`, { headers: headers({ accept: "application/json" }) });
  if (!res.ok) throw await refusal(res);
  return res.json();
}

/**
 * Follows `GET /_flotilla/api/events` (read with fetch, so the token goes in a header, not in the URL) and
 * calls `onEvent(name, data)` for each event. Reconnects after `retry` when the stream ends; a refusal
 * (401, 403) stops and goes to `onError`. Returns a function that stops following.
 */
export function follow(onEvent, onError, onState) {
  const stop = new AbortController();
  let retryMs = 2000;
  const run = async () => {
    while (!stop.signal.aborted) {
      try {
        const res = await fetch("/_flotilla/api/events", {
          headers: headers({ accept: "text/event-stream" }),
          signal: stop.signal,
        });
        if (res.status === 401 || res.status === 403) {
          onError(await refusal(res));
          return;
        }
        if (!res.ok) throw await refusal(res);
        onState("live");
        retryMs = await readEvents(res.body, onEvent, retryMs);
      } catch (err) {
        if (stop.signal.aborted) return;
        onError(err);
      }
      onState("reconnecting");
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  };
  run();
  return () => stop.abort();
}

/** Reads Server-Sent Events until the stream ends; answers the last `retry` hint. */
async function readEvents(body, onEvent, retryMs) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let retry = retryMs;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return retry;
    buffer += value;
    let end = buffer.indexOf("\n\n");
    while (end !== -1) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      let data = "";
      for (const line of frame.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
        else if (line.startsWith("retry: ")) retry = Number(line.slice(7)) || retry;
      }
      if (data !== "") onEvent(event, JSON.parse(data));
      end = buffer.indexOf("\n\n");
    }
  }
}
