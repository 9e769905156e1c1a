/** @module Starts a real core host and a gateway on a free port; helpers for HTTP and raw-socket requests. */
import { connect } from "node:net";
import { createHost, type FieldIssue, type Host } from "@flotilla/core";
import { pino } from "pino";
import { expect } from "vitest";
import { createGateway, type Gateway, type GatewayOptions, type Policy, type Route, route } from "../../src/index.js";
import { catalogService, ghost, probeService, testRoutes } from "./services.js";

export interface TestGateway {
  readonly host: Host;
  readonly gateway: Gateway;
  readonly url: string;
  /** Every log line the host and the gateway wrote, parsed. */
  readonly logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

/** Gateway options a test may set beyond its routes and policies (limits, the access log). */
export type ExtraOptions = Omit<GatewayOptions, "host" | "routes" | "policies" | "logger">;

export async function startGateway(
  opts: { routes?: Route[]; policies?: Policy[]; withGhost?: boolean } & ExtraOptions = {},
): Promise<TestGateway> {
  const { routes: given, policies, withGhost, ...extra } = opts;
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const host = createHost({
    services: [catalogService, probeService],
    transport: "memory://?faithful=true",
    logger,
    validateOutput: true,
  });
  await host.start();
  const routes = [...(given ?? testRoutes)];
  if (withGhost) routes.push(route({ method: "POST", path: "/ghost", action: ghost.haunt }));
  const gateway = createGateway({ host, routes, ...(policies ? { policies } : {}), ...extra });
  const url = await gateway.listen({ port: 0, host: "127.0.0.1" });
  return {
    host,
    gateway,
    url,
    logs,
    async stop() {
      await gateway.close();
      await host.stop();
    },
  };
}

/** What probe.inspect reports about the call it received. */
export interface Seen {
  input: Record<string, unknown>;
  traceId: string;
  parentSpanId: string;
  tracestate: string | null;
  baggage: string | null;
  correlationId: string;
  caller: unknown;
  remainingMs: number;
}

export interface ErrorJson {
  code: string;
  message: string;
  traceId: string;
  details?: { issues?: FieldIssue[]; limit?: number; [key: string]: unknown };
}

export async function seenBy(res: Response): Promise<Seen> {
  return (await res.json()) as Seen;
}

export async function errorOf(res: Response): Promise<ErrorJson> {
  return ((await res.json()) as { error: ErrorJson }).error;
}

/** Asserts an error answer: its status, its code, and the trace and correlation ids every answer carries. */
export async function expectError(res: Response, http: number, code: string): Promise<ErrorJson> {
  expect(res.status).toBe(http);
  expect(res.headers.get("x-trace-id")).toMatch(/^[0-9a-f]{32}$/);
  expect(res.headers.get("x-correlation-id")).toBeTruthy();
  const error = await errorOf(res);
  expect(error.code).toBe(code);
  expect(error.traceId).toBe(res.headers.get("x-trace-id"));
  return error;
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/** Writes raw bytes to the gateway and resolves with everything it answers before closing. */
export function raw(url: string, request: string | Buffer): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(request));
    const chunks: Buffer[] = [];
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
  });
}

export function statusOf(response: string): number {
  return Number(response.slice(9, 12));
}

export function headerOf(response: string, name: string): string | undefined {
  const line = response.split("\r\n").find((l) => l.toLowerCase().startsWith(`${name}:`));
  return line?.slice(name.length + 1).trim();
}

export function rawErrorOf(response: string): ErrorJson {
  return (JSON.parse(response.slice(response.indexOf("\r\n\r\n") + 4)) as { error: ErrorJson }).error;
}
