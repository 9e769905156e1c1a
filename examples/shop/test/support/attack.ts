/** @module Support for the shop's attack tests: a shop that counts the actions it serves, and clients that send what fetch will not. */
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineApp, type RunningApp, runApp } from "@flotilla/app";
import type { Middleware } from "@flotilla/core";
import { shopApp } from "../../src/app.js";

/** Every inbound action any counted shop served, as `service.action`, since the last reset. */
export interface ActionCounter {
  readonly middleware: Middleware;
  readonly calls: string[];
  reset(): void;
}

export function actionCounter(): ActionCounter {
  const calls: string[] = [];
  return {
    calls,
    reset: () => void calls.splice(0),
    middleware: {
      name: "count-actions",
      action: (inv, next) => {
        calls.push(inv.ref.fqn);
        return next();
      },
    },
  };
}

export interface CountedShop {
  readonly app: RunningApp;
  /** The gateway's URL (undefined for a services-only run). */
  readonly url: string;
  readonly dataDir: string;
  stop(): Promise<void>;
}

export interface CountedShopOptions {
  /** Environment the shop reads while it starts (e.g. FLOTILLA_RATE_LIMIT); restored once it runs. */
  env?: Record<string, string>;
  /** `nats://…` runs the services over NATS; default embedded. */
  transport?: string;
  /** false: services only, no gateway. */
  gateway?: boolean;
}

/**
 * The real shop (its services, routes and policies) with a counting middleware first in every service's
 * action pipeline, in a fresh temp data directory.
 */
export async function startCountedShop(counter: ActionCounter, opts: CountedShopOptions = {}): Promise<CountedShop> {
  const dataDir = mkdtempSync(join(tmpdir(), "flotilla-attack-"));
  const app = defineApp({ ...shopApp, middleware: [counter.middleware] });
  const running = await withEnv(opts.env ?? {}, () =>
    runApp(app, {
      dataDir,
      ...(opts.gateway === false ? {} : { gatewayPort: 0, listenHost: "127.0.0.1" }),
      ...(opts.transport ? { transport: opts.transport } : {}),
    }),
  );
  return {
    app: running,
    url: running.url ?? "",
    dataDir,
    async stop() {
      await running.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs `fn` with these variables set in process.env (the shop reads them as it builds its gateway), then
 * restores them. Not for concurrent use: two overlapping calls would see each other's variables.
 */
export async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = new Map(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** An HTTP answer however it was obtained. status 0: the connection ended without an answer (`error` says how). */
export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly error?: string;
}

/** The error code of a Flotilla error body, if the body is one. */
export function errorCode(answer: Answer): string | undefined {
  try {
    return (JSON.parse(answer.body) as { error?: { code?: unknown } }).error?.code as string | undefined;
  } catch {
    return undefined;
  }
}

/** fetch, with a connection failure turned into status 0 rather than a throw (a reset is an observed result). */
export async function fetchAnswer(url: string, init: RequestInit = {}): Promise<Answer> {
  try {
    const res = await fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(20_000) });
    return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { status: 0, headers: {}, body: "", error: cause?.code ?? cause?.message ?? String(err) };
  }
}

/** node:http sends the path exactly as given: fetch would resolve `..` and `%2e%2e` before sending. */
export function verbatimRequest(
  base: string,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const req = httpRequest(
      { host: hostname, port, path, method: opts.method ?? "GET", headers: opts.headers ?? {}, timeout: 20_000 },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = String(v);
          resolve({ status: res.statusCode ?? 0, headers, body });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err: NodeJS.ErrnoException) =>
      resolve({ status: 0, headers: {}, body: "", error: err.code ?? err.message }),
    );
    req.end(opts.body);
  });
}

/**
 * Writes raw bytes on a fresh connection (chunks separated by `gapMs`), then reads until the server closes
 * or `timeoutMs` passes, and parses the first answer. status 0: closed without an answer; -1: still open.
 */
export function rawExchange(
  base: string,
  chunks: readonly (string | Buffer)[],
  opts: { gapMs?: number; timeoutMs?: number } = {},
): Promise<Answer & { elapsedMs: number }> {
  const { hostname, port } = new URL(base);
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = netConnect({ host: hostname, port: Number(port) });
    const received: Buffer[] = [];
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    let writer: NodeJS.Timeout | undefined;
    const finish = (stillOpen: boolean, error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(writer);
      socket.destroy();
      const parsed = parseAnswer(Buffer.concat(received).toString("latin1"));
      const status = parsed?.status ?? (stillOpen ? -1 : 0);
      resolve({
        status,
        headers: parsed?.headers ?? {},
        body: parsed?.body ?? "",
        elapsedMs: performance.now() - started,
        ...(error !== undefined && parsed === undefined ? { error } : {}),
      });
    };
    socket.on("data", (d: Buffer) => received.push(d));
    socket.on("end", () => finish(false));
    socket.on("close", () => finish(false));
    socket.on("error", (err: NodeJS.ErrnoException) => finish(false, err.code ?? err.message));
    timer = setTimeout(() => finish(true), opts.timeoutMs ?? 5_000);
    let i = 0;
    const writeNext = () => {
      if (done || i >= chunks.length) return;
      const chunk = chunks[i++] as string | Buffer;
      socket.write(chunk, () => {
        if (opts.gapMs) writer = setTimeout(writeNext, opts.gapMs);
        else writeNext();
      });
    };
    socket.once("connect", writeNext);
  });
}

function parseAnswer(text: string): { status: number; headers: Record<string, string>; body: string } | undefined {
  const m = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/.exec(text);
  if (m === null) return undefined;
  const headEnd = text.indexOf("\r\n\r\n");
  const headers: Record<string, string> = {};
  for (const line of text.slice(m[0].length, headEnd === -1 ? undefined : headEnd).split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = headEnd === -1 ? "" : text.slice(headEnd + 4);
  const length = Number(headers["content-length"]);
  if (headers["transfer-encoding"]?.toLowerCase() === "chunked") body = dechunk(body);
  else if (headers["content-length"] !== undefined && Number.isInteger(length)) body = body.slice(0, length);
  return { status: Number(m[1]), headers, body };
}

function dechunk(text: string): string {
  let out = "";
  let at = 0;
  for (;;) {
    const eol = text.indexOf("\r\n", at);
    if (eol === -1) return out;
    const size = Number.parseInt(text.slice(at, eol), 16);
    if (!(size > 0)) return out;
    out += text.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}
