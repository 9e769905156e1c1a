/**
 * @module A client process of the live fan-out benchmark: opens its share of the connections (SSE over
 * node:http, or WebSockets with `ws`), each with its own bearer token, and records for every pushed
 * event when each connection received it (CLOCK_MONOTONIC, against the server's stamp in the event).
 */
import { request } from "node:http";
import WebSocket from "ws";
import { type Broadcast, LIVE_PATH, type LiveProtocol, monotonicUs } from "./cases.js";
import { serveRequests } from "./children.js";
import { SseReader } from "./sse-reader.js";

interface Round {
  /** Receipt − stamp per connection, µs; NaN until it arrives. */
  readonly latencies: Float64Array;
  received: number;
  duplicates: number;
}

export interface OpenResult {
  opened: number;
  /** First attempt to last `ready`, ms. */
  openMs: number;
  /** Refusals and errors by status code or error code. */
  failures: Record<string, number>;
}

export interface RoundResult {
  latenciesUs: number[];
  missing: number;
  duplicates: number;
}

const rounds = new Map<number, Round>();
const closers: (() => void)[] = [];
let count = 0;
/** Messages that were neither `ready` nor a broadcast, or not JSON: should stay 0. */
let malformed = 0;

function received(index: number, json: string, atUs: number): void {
  let broadcast: Broadcast;
  try {
    broadcast = (JSON.parse(json) as { data: Broadcast }).data;
  } catch {
    malformed++;
    return;
  }
  if (typeof broadcast?.round !== "number") {
    malformed++;
    return;
  }
  let round = rounds.get(broadcast.round);
  if (round === undefined) {
    round = { latencies: new Float64Array(count).fill(Number.NaN), received: 0, duplicates: 0 };
    rounds.set(broadcast.round, round);
  }
  if (!Number.isNaN(round.latencies[index] as number)) {
    round.duplicates++;
    return;
  }
  round.latencies[index] = atUs - broadcast.sentAtUs;
  round.received++;
}

function openSse(url: URL, token: string, index: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { agent: false, headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" } },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(String(res.statusCode)));
          return;
        }
        res.setEncoding("utf8");
        let ready = false;
        let now = 0;
        const reader = new SseReader((event, data) => {
          if (event === "ready") {
            ready = true;
            resolve();
          } else if (ready) received(index, data, now);
        });
        res.on("data", (chunk: string) => {
          now = monotonicUs();
          reader.push(chunk);
        });
        res.on("error", () => undefined);
        closers.push(() => req.destroy());
      },
    );
    req.on("error", (err: NodeJS.ErrnoException) => reject(new Error(err.code ?? err.message)));
    req.end();
  });
}

function openWebSocket(url: URL, token: string, index: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.href.replace(/^http/, "ws"), { headers: { authorization: `Bearer ${token}` } });
    let ready = false;
    ws.on("message", (raw) => {
      const now = monotonicUs();
      const text = String(raw);
      if (!ready) {
        ready = true;
        resolve();
        return;
      }
      received(index, text, now);
    });
    ws.once("unexpected-response", (_req, res) => reject(new Error(String(res.statusCode))));
    ws.on("error", (err: NodeJS.ErrnoException) => reject(new Error(err.code ?? err.message)));
    closers.push(() => ws.terminate());
  });
}

async function open(args: Record<string, unknown>): Promise<OpenResult> {
  const url = new URL(LIVE_PATH, args.url as string);
  const protocol = args.protocol as LiveProtocol;
  const tokens = args.tokens as string[];
  const concurrency = args.concurrency as number;
  count = tokens.length;
  const failures: Record<string, number> = {};
  let opened = 0;
  let nextIndex = 0;
  const started = performance.now();
  const lane = async () => {
    for (let i = nextIndex++; i < count; i = nextIndex++) {
      try {
        await (protocol === "sse" ? openSse : openWebSocket)(url, tokens[i] as string, i);
        opened++;
      } catch (err) {
        const key = (err as Error).message;
        failures[key] = (failures[key] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return { opened, openMs: performance.now() - started, failures };
}

/** Waits until every connection has the round or the deadline passes, then hands its latencies over. */
async function collect(args: Record<string, unknown>): Promise<RoundResult> {
  const roundNo = args.round as number;
  const deadline = performance.now() + (args.timeoutMs as number);
  while (performance.now() < deadline && (rounds.get(roundNo)?.received ?? 0) < count) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const round = rounds.get(roundNo);
  rounds.delete(roundNo);
  if (round === undefined) return { latenciesUs: [], missing: count, duplicates: 0 };
  const latenciesUs = Array.from(round.latencies).filter((v) => !Number.isNaN(v));
  return { latenciesUs, missing: count - round.received, duplicates: round.duplicates };
}

serveRequests({
  ready: () => ({}),
  open,
  collect,
  malformed: () => malformed,
  close: () => {
    for (const close of closers.splice(0)) close();
  },
});
