// The dashboard's client of its own API: JSON reads and writes, the event stream, and the hooks views use
// for them; the admin token goes with every request when one was given.
import { useEffect, useRef, useState } from "./preact-htm.js";

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

/** Who hears of a 401 or 403 from any request of a view: the shell, which then asks for a token. */
let onRefused = () => {};

export function whenRefused(listener) {
  onRefused = listener;
}

async function send(path, init) {
  const res = await fetch(`/_flotilla/api/${path}`, init);
  if (!res.ok) {
    const error = await refusal(res);
    if (res.status === 401 || res.status === 403) onRefused(error);
    throw error;
  }
  return res.json();
}

/** GET a JSON document of the API, e.g. `getJson("traces?service=orders")`. */
export function getJson(path) {
  return send(path, { headers: headers({ accept: "application/json" }) });
}

/** POST a JSON body to the API (an action: retry, scale…) and answer its JSON. */
export function postJson(path, body = {}) {
  return send(path, {
    method: "POST",
    headers: headers({ accept: "application/json", "content-type": "application/json" }),
    body: JSON.stringify(body),
  });
}

/**
 * A view's read of `path`: `{ data, error, loading, reload }`, read again when `path` changes. `data`
 * keeps the last answer while a new read is under way.
 */
export function useJson(path) {
  const [state, setState] = useState({ data: undefined, error: undefined, loading: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    getJson(path).then(
      (data) => current && setState({ data, error: undefined, loading: false }),
      (error) => current && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => {
      current = false;
    };
  }, [path, round]);
  return { ...state, reload: () => setRound((r) => r + 1) };
}

/** The stream's state as the shell shows it: "connecting", "live" or "reconnecting". */
let onStreamState = () => {};

export function whenStreamState(listener) {
  onStreamState = listener;
}

/**
 * Follows the event stream's `topics` while the calling view is shown, calling `onEvent(topic, data)` for
 * each event. One stream per view; a refusal goes to the shell.
 */
export function useLive(topics, onEvent) {
  const key = topics.join(",");
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(
    () =>
      follow(
        key,
        (event, data) => handler.current(event, data),
        (err) => {
          if (err.status === 401 || err.status === 403) onRefused(err);
          else onStreamState("reconnecting");
        },
        (state) => onStreamState(state),
      ),
    [key],
  );
}

/**
 * Follows `GET /_flotilla/api/events?topics=…` (read with fetch, so the token goes in a header, not in the
 * URL) and calls `onEvent(name, data)` for each event. Reconnects after `retry` when the stream ends; a
 * refusal (401, 403) stops and goes to `onError`. Returns a function that stops following.
 */
export function follow(topics, onEvent, onError, onState) {
  const stop = new AbortController();
  let retryMs = 2000;
  const run = async () => {
    while (!stop.signal.aborted) {
      try {
        const res = await fetch(`/_flotilla/api/events?topics=${encodeURIComponent(topics)}`, {
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
