/**
 * @module The peers of the in-process call benchmark, each built in a bare and an observed
 * (tracing + metrics) configuration, with the same small validated action.
 */
import { createServer } from "node:net";
import { action, createHost, createLogger, defineContract, defineService, type Middleware } from "@flotilla/core";
import { memoryTraceStore, metrics, type TraceRecorder, traceRecorder, tracing } from "@flotilla/telemetry";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { ServiceBroker, type TracerExporterOptions } from "moleculer";
import { Registry } from "prom-client";
import { z } from "zod";
import { CountingSpanExporter, CountingTraceExporter } from "./counting-exporters.js";

export const IMPLS = ["direct", "moleculer", "flotilla", "flotilla-faithful"] as const;
export type Impl = (typeof IMPLS)[number];
export const CONFIGS = ["bare", "observed", "recorded"] as const;
export type Config = (typeof CONFIGS)[number];

export interface Case {
  call(): Promise<unknown>;
  /** What the telemetry recorded, checked against the number of calls made. */
  check(totalOps: number): Promise<Record<string, number | string>>;
  close(): Promise<void>;
}

const INPUT = { id: 42, name: "kettle" };

export function build(impl: Impl, config: Config): Promise<Case> {
  switch (impl) {
    case "direct":
      return direct();
    case "moleculer":
      return moleculer(config);
    case "flotilla":
      return flotilla(config, "memory://");
    case "flotilla-faithful":
      return flotilla(config, "memory://?faithful=1");
  }
}

/** The floor: an async function, no validation, no telemetry (the same in both configurations). */
async function direct(): Promise<Case> {
  const echo = async (input: typeof INPUT) => input;
  return { call: () => echo(INPUT), check: async () => ({}), close: async () => {} };
}

const bench = defineContract({
  service: "bench",
  actions: {
    echo: action({
      input: z.object({ id: z.number().int(), name: z.string().max(64) }),
      output: z.object({ id: z.number(), name: z.string() }),
    }),
  },
});

async function flotilla(config: Config, transport: string): Promise<Case> {
  const service = defineService(bench, { actions: { echo: (input) => input } });
  const middleware: Middleware[] = [];
  let exporter: CountingSpanExporter | undefined;
  let provider: BasicTracerProvider | undefined;
  const registry = new Registry();
  if (config === "observed") {
    exporter = new CountingSpanExporter();
    // BatchSpanProcessor with its defaults (batches of 512, 5 s delay), except a queue deep enough
    // that no span is dropped at these rates: a dropped span is work not done.
    provider = new BasicTracerProvider({
      spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 65_536 })],
    });
    middleware.push(tracing({ tracerProvider: provider }), metrics({ registry }));
  }
  // What runApp installs: Flotilla's light recorder into an embedded (memory) trace store, and metrics.
  let recorder: TraceRecorder | undefined;
  if (config === "recorded") {
    recorder = traceRecorder({ service: "bench", store: memoryTraceStore(), env: {} });
    middleware.push(tracing({ tracer: recorder.tracer }), metrics({ registry }));
  }
  const host = createHost({ services: [service], transport, middleware, logger: createLogger({ level: "silent" }) });
  await host.start();
  // One long-lived context, as a handler making many calls has.
  const ctx = host.context({ timeoutMs: 24 * 3600_000 });
  return {
    call: () => ctx.call(bench.echo, INPUT),
    async check(totalOps): Promise<Record<string, number | string>> {
      if (recorder !== undefined) {
        const text = await registry.metrics();
        return {
          spansExpected: 2 * totalOps,
          spansRecorded: recorder.stats().recorded,
          callsCounted: count(text, /^flotilla_call_duration_seconds_count\{[^}]*status="OK"\} (\d+)$/m),
          actionsCounted: count(text, /^flotilla_action_duration_seconds_count\{[^}]*status="OK"\} (\d+)$/m),
        };
      }
      if (exporter === undefined || provider === undefined) return {};
      await provider.forceFlush();
      const text = await registry.metrics();
      return {
        spansExpected: 2 * totalOps,
        spansExported: exporter.exported,
        callsCounted: count(text, /^flotilla_call_duration_seconds_count\{[^}]*status="OK"\} (\d+)$/m),
        actionsCounted: count(text, /^flotilla_action_duration_seconds_count\{[^}]*status="OK"\} (\d+)$/m),
      };
    },
    async close() {
      await host.stop();
      await provider?.shutdown();
      await recorder?.close();
    },
  };
}

async function moleculer(config: Config): Promise<Case> {
  // Moleculer has one tracer of its own: both observed configurations use it.
  const observed = config !== "bare";
  const exporter = new CountingTraceExporter({});
  const port = observed ? await freePort() : 0;
  const broker = new ServiceBroker({
    nodeID: "bench",
    logger: false,
    transporter: null,
    tracing: observed
      ? {
          enabled: true,
          // Moleculer accepts an exporter instance at run time; its typings only list names and options.
          exporter: [exporter as unknown as TracerExporterOptions],
          // Moleculer copies each call's params into its span by default; Flotilla records no
          // payloads, so this is switched off to compare like with like.
          tags: { action: { params: false } },
        }
      : { enabled: false },
    metrics: observed
      ? { enabled: true, reporter: { type: "Prometheus", options: { port, host: "127.0.0.1" } } }
      : { enabled: false },
  });
  broker.createService({
    name: "bench",
    actions: {
      echo: {
        params: { id: { type: "number", integer: true }, name: { type: "string", max: 64 } },
        handler: (ctx: { params: unknown }) => ctx.params,
      },
    },
  });
  await broker.start();
  return {
    call: () => broker.call("bench.echo", INPUT),
    async check(totalOps): Promise<Record<string, number | string>> {
      if (!observed) return {};
      exporter.flush();
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return {
        spansExpected: totalOps,
        spansExported: exporter.exported,
        callsCounted: count(text, /^moleculer_request_total\{[^}]*action="bench\.echo"[^}]*\} (\d+)$/m),
      };
    },
    close: () => broker.stop(),
  };
}

function count(text: string, pattern: RegExp): number | string {
  const m = pattern.exec(text);
  return m ? Number(m[1]) : "missing";
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}
