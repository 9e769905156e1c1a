/**
 * @module The dashboard's client of a supervisor's control API (`flotilla up`, docs/supervisor.md): its
 * status, scale and rolling restart, and its event stream. The same requests as `flotilla ps/scale/restart`,
 * addressed by URL and token (the dashboard is given both; it has no data dir to read them from). The
 * supervisor's own errors come back as the FlotillaErrors they are, codes intact.
 */
import { FlotillaError, fromWire } from "@flotilla/core";
import type { SupervisorLink } from "./dashboard-context.js";

/** A scale decision, as the supervisor reports it. */
export interface ScaleDecisionView {
  readonly unit: string;
  readonly from: number;
  readonly to: number;
  /** The signal that decided (`inFlight`, `lag`, `cpu`), or `min`, `max`, `manual`. */
  readonly signal: string;
  readonly reason: string;
  readonly at: number;
}

/** What the dashboard reads of a unit's status. */
export interface UnitStatusView {
  readonly name: string;
  readonly services: readonly string[];
  readonly gateway: boolean;
  readonly desired: number;
  readonly min: number;
  readonly max: number;
  readonly health: string;
  readonly restarts: number;
  readonly instances: readonly { readonly id: string; readonly pid: number; readonly state: string }[];
}

export interface SupervisorStatusView {
  readonly app: string;
  readonly units: readonly UnitStatusView[];
  /** The supervisor's latest decisions, oldest first. */
  readonly decisions: readonly ScaleDecisionView[];
}

/** What the code of an unreachable supervisor is, as `flotilla ps` raises it. */
const NOT_RUNNING = { code: "FLOTILLA_SUPERVISOR_NOT_RUNNING", status: "UNAVAILABLE" } as const;

/** A status read. */
const READ_TIMEOUT_MS = 10_000;
/** A scale or a restart answers once the new instances are ready (or the old ones drained). */
const ACTION_TIMEOUT_MS = 5 * 60_000;

export class SupervisorClient {
  constructor(private readonly link: SupervisorLink) {}

  status(): Promise<SupervisorStatusView> {
    return this.call("GET", "/status") as Promise<SupervisorStatusView>;
  }

  scale(unit: string, instances: number, reason: string): Promise<ScaleDecisionView> {
    const path = `/units/${encodeURIComponent(unit)}/scale`;
    return this.call("POST", path, { instances, reason }, ACTION_TIMEOUT_MS) as Promise<ScaleDecisionView>;
  }

  /** Rolling: answers once every instance was replaced. */
  async restart(unit: string): Promise<void> {
    await this.call("POST", `/units/${encodeURIComponent(unit)}/restart`, {}, ACTION_TIMEOUT_MS);
  }

  /**
   * Follows `GET /events`, calling `onEvent(type, data)` for each, reconnecting after `retryMs` when the
   * stream ends or fails. Returns the function that stops following.
   */
  follow(onEvent: (type: string, data: unknown) => void, onError: (err: unknown) => void, retryMs = 2_000): () => void {
    const stop = new AbortController();
    const run = async () => {
      while (!stop.signal.aborted) {
        try {
          const res = await fetch(`${this.link.url}/events`, {
            headers: { authorization: `Bearer ${this.link.token}`, accept: "text/event-stream" },
            signal: stop.signal,
          });
          if (!res.ok || res.body === null) throw await this.refusal(res);
          await readEvents(res.body, onEvent);
        } catch (err) {
          if (stop.signal.aborted) return;
          onError(err);
        }
        await new Promise((resolve) => setTimeout(resolve, retryMs));
      }
    };
    void run();
    return () => stop.abort();
  }

  private async call(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
    timeoutMs = READ_TIMEOUT_MS,
  ): Promise<unknown> {
    const res = await fetch(`${this.link.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.link.token}`, "content-type": "application/json" },
      signal: AbortSignal.timeout(timeoutMs),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }).catch((err: unknown) => {
      if ((err as Error).name === "TimeoutError") {
        throw new FlotillaError(
          "DEADLINE_EXCEEDED",
          `the supervisor did not answer ${method} ${path} within ${timeoutMs} ms`,
          {
            cause: err,
          },
        );
      }
      throw FlotillaError.of(NOT_RUNNING, `no supervisor answers at ${this.link.url}`, { cause: err });
    });
    if (!res.ok) throw await this.refusal(res);
    return res.json();
  }

  private async refusal(res: Response): Promise<FlotillaError> {
    const answer = (await res.json().catch(() => undefined)) as { error?: unknown } | undefined;
    if (answer?.error === undefined) {
      return FlotillaError.of(NOT_RUNNING, `the supervisor at ${this.link.url} answered ${res.status}`);
    }
    const err = fromWire(answer.error);
    // A refused control token is the link's fault, not the dashboard caller's: a 401 would ask them for theirs.
    return err.status === "UNAUTHENTICATED"
      ? new FlotillaError(err.code, err.message, { status: "FAILED_PRECONDITION", cause: err })
      : err;
  }
}

/** Reads Server-Sent Events (`event:` and one `data:` line of JSON each) until the stream ends. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  onEvent: (type: string, data: unknown) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end !== -1) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = "message";
      let data = "";
      for (const line of frame.split("\n")) {
        if (line.startsWith("event: ")) type = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (data !== "") onEvent(type, JSON.parse(data));
      end = buffer.indexOf("\n\n");
    }
  }
}
