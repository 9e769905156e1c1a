/** @module The runtime host: starts a set of services over a transport and shuts them down gracefully. */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import { type CallOptions, Context, type Dispatcher, type Identity } from "./context.js";
import type { ActionRef, EventRef, InputOf, OutputOf } from "./contract.js";
import { FlotillaCodes, FlotillaError } from "./errors.js";
import { createLogger } from "./logger.js";
import { compose, type Middleware, type OutboundCall, type OutboundEvent } from "./middleware.js";
import type { Registry } from "./registry/registry.js";
import type { ResourceProvider } from "./resources.js";
import type { ServiceDefinition } from "./service.js";
import { ServiceInstance } from "./service-instance.js";
import { formatTraceparent, newTraceContext, parseTraceparent, type TraceContext } from "./trace-context.js";
import { type EventEnvelope, type HeaderMap, Headers, type RequestEnvelope } from "./transport/envelope.js";
import { resolveTransport, type TransportFactory, type TransportSpec } from "./transport/resolve-transport.js";
import type { Transport } from "./transport/transport.js";
import { parseOrThrow } from "./validation.js";

export interface HostOptions {
  services?: readonly ServiceDefinition[];
  /** A transport or its URL; `memory://` (the default) runs everything in this process. */
  transport?: TransportSpec;
  /** Factories for URL schemes beyond `memory` (e.g. `{ nats: natsTransport }`). */
  transports?: Record<string, TransportFactory>;
  resources?: readonly ResourceProvider[];
  middleware?: readonly Middleware[];
  logger?: Logger;
  /** Identifies this process in instance ids; defaults to hostname-pid-random (other characters become '-'). */
  id?: string;
  /** Default timeout of a call when neither the caller nor the action sets one (10 s). */
  callTimeoutMs?: number;
  /** Check every action's output against its contract (a cost per call; on in tests). */
  validateOutput?: boolean;
  /** How long stop() waits for in-flight work before closing anyway (10 s). */
  drainTimeoutMs?: number;
  /** Service discovery: each instance registers here once it takes traffic, and reports its load. */
  registry?: Registry;
  /** How often instances report load and readiness to the registry (1 s). */
  loadReportMs?: number;
}

/** What an edge (the gateway, a CLI, a test) knows about the request it is turning into calls. */
export interface EdgeContextOptions {
  /** The trace this work belongs to, already parsed (wins over `traceparent`). */
  trace?: TraceContext;
  traceparent?: string;
  tracestate?: string;
  correlationId?: string;
  caller?: Identity;
  timeoutMs?: number;
}

type State = "new" | "starting" | "running" | "stopping" | "stopped";

const NO_HEADERS: HeaderMap = Object.freeze({});

export class Host implements Dispatcher {
  readonly id: string;
  readonly log: Logger;
  readonly transport: Transport;
  readonly defaultCallTimeoutMs: number;
  private readonly ownsTransport: boolean;
  private readonly instances: ServiceInstance[];
  private readonly byName = new Map<string, ServiceInstance>();
  private readonly outboundCall: (call: OutboundCall) => Promise<unknown>;
  private readonly callerHeaders = new WeakMap<Identity, string>();
  private state: State = "new";
  private loadReports: NodeJS.Timeout | undefined;
  private seq = 0;

  constructor(private readonly options: HostOptions = {}) {
    // Ids become parts of NATS subjects and KV keys: letters, digits, '-' and '_' only.
    const id = options.id ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 6)}`;
    this.id = id.replace(/[^A-Za-z0-9_-]/g, "-");
    this.log = options.logger ?? createLogger();
    this.defaultCallTimeoutMs = options.callTimeoutMs ?? 10_000;
    const spec = options.transport ?? "memory://";
    this.transport = resolveTransport(spec, options.transports);
    this.ownsTransport = typeof spec === "string";
    const middleware = options.middleware ?? [];
    const send = (call: OutboundCall) => this.send(call);
    const publish = (e: OutboundEvent) => this.transport.publish(e.envelope);
    this.outboundCall = compose(middleware, "call", send);
    this.instances = (options.services ?? []).map((def) => {
      if (this.byName.has(def.name)) {
        throw FlotillaError.of(FlotillaCodes.CONFIG, `service ${def.name} is listed twice`);
      }
      const instance = new ServiceInstance(def, `${def.name}-${this.id}`, {
        dispatcher: this,
        transport: this.transport,
        providers: options.resources ?? [],
        middleware,
        log: this.log,
        validateOutput: options.validateOutput ?? false,
        registry: options.registry,
        send,
        publish,
        publishEnvelope: (e) => this.transport.publish(e),
      });
      this.byName.set(def.name, instance);
      return instance;
    });
  }

  get services(): readonly string[] {
    return this.instances.map((i) => i.def.name);
  }

  async start(): Promise<void> {
    if (this.state !== "new") throw FlotillaError.of(FlotillaCodes.CONFIG, `host cannot start when ${this.state}`);
    this.state = "starting";
    try {
      if (this.ownsTransport) await this.transport.connect();
      for (const instance of this.instances) await instance.start();
      for (const instance of this.instances) await instance.listen();
      if (this.options.registry !== undefined) this.startLoadReports(this.options.loadReportMs ?? 1_000);
      this.state = "running";
      this.log.info({ services: this.services, transport: this.transport.name }, "host started");
    } catch (err) {
      this.log.error({ err }, "host failed to start");
      await this.stop();
      throw err;
    }
  }

  /** Stops taking work, lets in-flight work finish (up to the drain timeout), then closes. */
  async stop(): Promise<void> {
    if (this.state === "stopping" || this.state === "stopped") return;
    this.state = "stopping";
    clearInterval(this.loadReports);
    const drainMs = this.options.drainTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      Promise.all(this.instances.map((i) => i.drain())).then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), drainMs))),
    ]);
    clearTimeout(timer);
    if (!drained) this.log.warn({ drainMs }, "in-flight work did not finish before the drain timeout");
    for (const instance of [...this.instances].reverse()) {
      try {
        await instance.close();
      } catch (err) {
        instance.log.error({ err }, "service failed to stop cleanly");
      }
    }
    if (this.ownsTransport) await this.transport.close();
    this.state = "stopped";
    this.log.info("host stopped");
  }

  /** Ready when running and every service reports ready. */
  async isReady(): Promise<boolean> {
    if (this.state !== "running") return false;
    const ready = await Promise.all(this.instances.map((i) => i.isReady()));
    return ready.every(Boolean);
  }

  /** A context for work that starts outside any service: an HTTP request, a CLI command, a test. */
  context(opts: EdgeContextOptions = {}): Context {
    const trace = opts.trace ?? parseTraceparent(opts.traceparent, opts.tracestate) ?? newTraceContext();
    return new Context(this, {
      service: undefined,
      instance: undefined,
      trace,
      correlationId: opts.correlationId ?? trace.traceId,
      caller: opts.caller,
      deadline: Date.now() + (opts.timeoutMs ?? this.defaultCallTimeoutMs),
      db: undefined,
    });
  }

  /** Shorthand for `host.context(opts).call(ref, input)`. */
  call<R extends ActionRef>(
    ref: R,
    input: InputOf<R>,
    opts: EdgeContextOptions & CallOptions = {},
  ): Promise<OutputOf<R>> {
    return this.context(opts).call(ref, input, opts);
  }

  // Dispatcher: the outbound half, used by every context this host creates.

  dispatch(ctx: Context, ref: ActionRef, input: unknown, opts: CallOptions | undefined): Promise<unknown> {
    const remaining = ctx.deadline - Date.now();
    if (remaining <= 0) {
      return Promise.reject(new FlotillaError("DEADLINE_EXCEEDED", `deadline passed before calling ${ref.fqn}`));
    }
    let timeoutMs = opts?.timeoutMs ?? ref.timeoutMs ?? this.defaultCallTimeoutMs;
    if (timeoutMs > remaining) timeoutMs = remaining;
    const call: OutboundCall = { ref, ctx, input, trace: ctx.trace, timeoutMs, attempt: 1 };
    if (opts !== undefined) {
      if (opts.instance !== undefined) call.instance = opts.instance;
      if (opts.key !== undefined) call.key = opts.key;
      if (opts.strategy !== undefined) call.strategy = opts.strategy;
    }
    // A service's calls run through its own pipeline, which includes its resource's middleware.
    const pipeline = ctx.service === undefined ? this.outboundCall : this.byName.get(ctx.service)?.outboundCall;
    return (pipeline ?? this.outboundCall)(call);
  }

  async emit(ctx: Context, ref: EventRef, data: unknown): Promise<void> {
    const instance = ctx.service === undefined ? undefined : this.byName.get(ctx.service);
    if (instance === undefined || ctx.service !== ref.service) {
      throw FlotillaError.of(
        FlotillaCodes.CONFIG,
        `${ctx.service ?? "the edge"} cannot emit ${ref.type}: a service emits only its own events`,
      );
    }
    const envelope: EventEnvelope = {
      id: randomUUID(),
      type: ref.type,
      source: ref.service,
      version: ref.version,
      time: new Date().toISOString(),
      headers: this.headers(ctx, ctx.trace),
      data: parseOrThrow(ref.schema, data, `data of ${ref.type}`),
    };
    await instance.outboundEmit({ ref, ctx, envelope });
  }

  logger(ctx: Context): Logger {
    const base = (ctx.service === undefined ? undefined : this.byName.get(ctx.service))?.log ?? this.log;
    return base.child({ traceId: ctx.trace.traceId, spanId: ctx.trace.spanId, correlationId: ctx.correlationId });
  }

  private startLoadReports(everyMs: number): void {
    this.loadReports = setInterval(() => {
      for (const instance of this.instances) {
        instance.reportLoad().catch((err: unknown) => instance.log.warn({ err }, "load report failed"));
      }
    }, everyMs);
    this.loadReports.unref();
  }

  private send(call: OutboundCall): Promise<unknown> {
    const ctx = call.ctx;
    const req: { -readonly [K in keyof RequestEnvelope]: RequestEnvelope[K] } = {
      id: `${this.id}.${++this.seq}`,
      service: call.ref.service,
      action: call.ref.fqn,
      headers: call.headers ?? NO_HEADERS,
      payload: call.input,
    };
    if (this.transport.passesObjects) {
      // Same process, objects passed through: skip formatting headers the callee would only parse again.
      req.meta = {
        trace: call.trace,
        correlationId: ctx.correlationId,
        caller: ctx.caller,
        deadline: Date.now() + call.timeoutMs,
      };
    } else {
      const headers = this.headers(ctx, call.trace);
      headers[Headers.timeout] = String(call.timeoutMs);
      if (call.headers) Object.assign(headers, call.headers);
      req.headers = headers;
    }
    if (call.instance !== undefined) req.instance = call.instance;
    return this.transport.request(req, { timeoutMs: call.timeoutMs });
  }

  private headers(ctx: Context, trace: Context["trace"]): HeaderMap {
    const headers: HeaderMap = {
      [Headers.traceparent]: formatTraceparent(trace),
      [Headers.correlationId]: ctx.correlationId,
    };
    if (trace.tracestate) headers[Headers.tracestate] = trace.tracestate;
    if (ctx.caller !== undefined) headers[Headers.caller] = this.callerHeader(ctx.caller);
    return headers;
  }

  private callerHeader(caller: Identity): string {
    let header = this.callerHeaders.get(caller);
    if (header === undefined) {
      header = JSON.stringify(caller);
      this.callerHeaders.set(caller, header);
    }
    return header;
  }
}

/** Creates a host; call `start()` on it. */
export function createHost(options: HostOptions = {}): Host {
  return new Host(options);
}
