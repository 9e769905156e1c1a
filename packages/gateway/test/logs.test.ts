/** Log lines of a host and its gateway, as written to a real pino destination: fields, levels per service, formats. */
import {
  action,
  createHost,
  createLogger,
  defineContract,
  defineService,
  FlotillaCodes,
  FlotillaError,
  type Host,
} from "@flotilla/core";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { createGateway, type Gateway, route } from "../src/index.js";

const Note = z.object({ note: z.string() });
const orders = defineContract({ service: "orders", actions: { place: action({ input: Note, output: Note }) } });
const payments = defineContract({ service: "payments", actions: { charge: action({ input: Note, output: Note }) } });

const logEverything = (input: z.infer<typeof Note>, ctx: { log: Host["log"] }) => {
  ctx.log.debug({ note: input.note }, "debug line");
  ctx.log.info({ note: input.note }, "info line");
  ctx.log.warn({ note: input.note }, "warn line");
  return input;
};
const ordersService = defineService(orders, { actions: { place: logEverything } });
const paymentsService = defineService(payments, { actions: { charge: logEverything } });

/** A destination that keeps every line pino writes. */
function capture(): { write(line: string): void; lines: string[]; json(): Record<string, unknown>[] } {
  const lines: string[] = [];
  return { write: (line) => lines.push(line), lines, json: () => lines.map((l) => JSON.parse(l)) };
}

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN = "00f067aa0ba902b7";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("log lines through the gateway", () => {
  const out = capture();
  let host: Host;
  let gateway: Gateway;
  let url: string;
  beforeAll(async () => {
    // payments' level comes from the environment, orders' from the option: debug for one, warn for the other.
    vi.stubEnv("FLOTILLA_LOG_LEVELS", "payments=warn");
    host = createHost({
      services: [ordersService, paymentsService],
      logger: createLogger({ stream: out, format: "json", level: "info" }),
      logLevels: { orders: "debug" },
    });
    await host.start();
    gateway = createGateway({
      host,
      routes: [
        route({ method: "POST", path: "/orders", action: orders.place }),
        route({ method: "POST", path: "/payments", action: payments.charge }),
      ],
    });
    url = await gateway.listen();
  });
  afterAll(async () => {
    await gateway.close();
    await host.stop();
  });

  async function post(path: string, note: string): Promise<void> {
    const res = await fetch(`${url}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        traceparent: `00-${TRACE_ID}-${PARENT_SPAN}-01`,
        "x-correlation-id": `corr-${note}`,
      },
      body: JSON.stringify({ note }),
    });
    expect(res.status).toBe(200);
    // The access line is written once the answer is out, which may be just after the client has it.
    await vi.waitFor(() =>
      expect(out.json().some((l) => l.msg === "request" && l.correlation_id === `corr-${note}`)).toBe(true),
    );
  }

  it("gives a handler's line the request's trace, its span, the correlation id, service and instance", async () => {
    await post("/orders", "a");
    const line = out.json().find((l) => l.msg === "info line" && l.note === "a");
    expect(line).toMatchObject({
      level: 30,
      trace_id: TRACE_ID,
      correlation_id: "corr-a",
      service: "orders",
      instance: `orders-${host.id}`,
    });
    expect(line?.span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(line?.span_id).not.toBe(PARENT_SPAN);
    expect(Object.keys(line ?? {})).not.toEqual(expect.arrayContaining(["traceId"]));
    const access = out.json().find((l) => l.msg === "request" && l.correlation_id === "corr-a");
    expect(access).toMatchObject({
      service: "gateway",
      instance: `gateway-${host.id}`,
      trace_id: TRACE_ID,
      status: 200,
    });
  });

  it("filters each service's lines at its own level", async () => {
    await post("/orders", "b");
    await post("/payments", "c");
    const messages = (note: string) =>
      out
        .json()
        .filter((l) => l.note === note)
        .map((l) => l.msg);
    expect(messages("b")).toEqual(["debug line", "info line", "warn line"]);
    expect(messages("c")).toEqual(["warn line"]);
    // Lines of no service (the host's own) keep the logger's level.
    expect(out.json().find((l) => l.msg === "host started")).toMatchObject({ level: 30 });
  });
});

describe("log levels from the environment", () => {
  it("takes FLOTILLA_LOG_LEVEL_<SERVICE> over the service's FLOTILLA_LOG_LEVELS entry", async () => {
    vi.stubEnv("FLOTILLA_LOG_LEVELS", "orders=error,payments=debug");
    vi.stubEnv("FLOTILLA_LOG_LEVEL_ORDERS", "warn");
    const out = capture();
    // The logger's own level (FLOTILLA_LOG_LEVEL=silent in tests) does not bound a service's.
    const host = createHost({ services: [ordersService, paymentsService], logger: createLogger({ stream: out }) });
    await host.start();
    try {
      await host.call(orders.place, { note: "o" });
      await host.call(payments.charge, { note: "p" });
    } finally {
      await host.stop();
    }
    expect(
      out
        .json()
        .filter((l) => l.note === "o")
        .map((l) => l.msg),
    ).toEqual(["warn line"]);
    expect(
      out
        .json()
        .filter((l) => l.note === "p")
        .map((l) => l.msg),
    ).toEqual(["debug line", "info line", "warn line"]);
  });

  it.each([
    ["FLOTILLA_LOG_LEVEL_PAYMENTS", "loud", /FLOTILLA_LOG_LEVEL_PAYMENTS is "loud"/],
    ["FLOTILLA_LOG_LEVELS", "orders=verbose", /FLOTILLA_LOG_LEVELS for orders is "verbose"/],
    ["FLOTILLA_LOG_LEVELS", "orders:debug", /needs service=level/],
    ["FLOTILLA_LOG_LEVEL", "chatty", /FLOTILLA_LOG_LEVEL is "chatty"/],
    ["FLOTILLA_LOG_FORMAT", "xml", /FLOTILLA_LOG_FORMAT is "xml"/],
  ])("refuses to start when %s is %s", (name, value, message) => {
    vi.stubEnv(name, value);
    expect(() => createHost({ services: [ordersService] })).toThrow(message);
    expect(codeOf(() => createHost({ services: [ordersService] }))).toBe(FlotillaCodes.CONFIG.code);
  });

  it("refuses an invalid level in the logLevels option", () => {
    const make = () =>
      createHost({
        services: [ordersService],
        logger: createLogger({ stream: capture() }),
        logLevels: { orders: "verbose" },
      });
    expect(make).toThrow(/logLevels.orders is "verbose", not a log level/);
    expect(codeOf(make)).toBe(FlotillaCodes.CONFIG.code);
  });
});

describe("log formats", () => {
  it("writes pretty lines, not JSON, when forced", () => {
    vi.stubEnv("FLOTILLA_LOG_FORMAT", "pretty");
    const out = capture();
    createLogger({ stream: out, level: "info" }).child({ service: "orders", trace_id: TRACE_ID }).info("order placed");
    expect(out.lines).toHaveLength(1);
    const [line] = out.lines as [string];
    expect(() => JSON.parse(line)).toThrow();
    expect(line).toContain("order placed");
    expect(line).toContain(TRACE_ID);
    // Not a terminal: no colour codes.
    expect(line).not.toContain("\u001b[");
  });

  it("writes JSON to a stream that is not a terminal, and pretty to one that is, unless told otherwise", () => {
    const pipe = capture();
    const terminal = Object.assign(capture(), { isTTY: true });
    createLogger({ stream: pipe, level: "info" }).info("to a pipe");
    createLogger({ stream: terminal, level: "info" }).info("to a terminal");
    createLogger({ stream: terminal, level: "info", format: "json" }).info("forced");
    expect(JSON.parse(pipe.lines[0] as string)).toMatchObject({ msg: "to a pipe" });
    expect(terminal.lines[0]).toContain("to a terminal");
    expect(() => JSON.parse(terminal.lines[0] as string)).toThrow();
    expect(JSON.parse(terminal.lines[1] as string)).toMatchObject({ msg: "forced" });
  });
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof FlotillaError ? err.code : undefined;
  }
  return undefined;
}
