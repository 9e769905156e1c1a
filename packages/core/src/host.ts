/**
 * @module The runtime host: builds one instance per service over a transport, starts them, and stops
 * them gracefully. Calls and emits never pass through it: each instance owns its outbound path.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import type { CallerVerifier } from "./caller-proof.js";
import { type CallOptions, Context, type Identity } from "./context.js";
import type { ActionRef, InputOf, OutputOf } from "./contract.js";
import { FlotillaCodes, FlotillaError } from "./errors.js";
import { type LogLevels, serviceLogLevels } from "./log-levels.js";
import { createLogger } from "./logger.js";
import type { Middleware } from "./middleware.js";
import { Outbound } from "./outbound.js";
import { transportSink } from "./outbound-sink.js";
import type { Registry } from "./registry/registry.js";
import type { ResourceProvider } from "./resources.js";
import type { ServiceDefinition } from "./service.js";
import { type OrchestratorBinding, ServiceInstance } from "./service-instance.js";
import { newTraceContext, parseTraceparent, type TraceContext } from "./trace-context.js";
import { validBaggage } from "./transport/metadata.js";
import { resolveTransport, type TransportFactory, type TransportSpec } from "./transport/resolve-transport.js";
import type { Transport } from "./transport/transport.js";

export interface HostOptions {
  services?: readonly ServiceDefinition[];
  /** A transport or its URL; `memory://` (the default) runs everything in this process. */
  transport?: TransportSpec;
  /** Factories for URL schemes beyond `memory` (e.g. `{ nats: natsTransport }`). */
  transports?: Record<string, TransportFactory>;
  resources?: readonly ResourceProvider[];
  middleware?: readonly Middleware[];
  /** Default: `createLogger()` (FLOTILLA_LOG_LEVEL, FLOTILLA_LOG_FORMAT). */
  logger?: Logger;
  /**
   * Levels of single services' lines (`{ orders: "debug" }`; the gateway's are `gateway`), over their
   * FLOTILLA_LOG_LEVEL_<SERVICE> and FLOTILLA_LOG_LEVELS entries; others log at the logger's level.
   */
  logLevels?: LogLevels;
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
  /**
   * Verifies the caller proofs that requests and events bring over a wire (see caller-proof.ts). Without
   * one, a request carrying a caller is refused and an event's caller is dropped: never trusted unchecked.
   */
  callers?: CallerVerifier;
  /**
   * Opens the spans that resources and orchestrators record (database transactions, saga steps); the
   * tracing middleware has its own. Absent: they record none.
   */
  tracer?: Tracer;
  /**
   * The HTTP address of this process's ops port (`http://host:port`): every instance registers with it
   * as its `endpoint`, so a dashboard elsewhere can read its health, metrics and sagas. Absent: none.
   */
  endpoint?: string;
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
  /** The W3C `baggage` header the request came with; dropped when longer than 8192 characters or unprintable. */
  baggage?: string;
}

type State = "new" | "starting" | "running" | "stopping" | "stopped";

export class Host {
  readonly id: string;
  readonly log: Logger;
  readonly transport: Transport;
  readonly defaultCallTimeoutMs: number;
  readonly tracer: Tracer | undefined;
  private readonly ownsTransport: boolean;
  private readonly instances: ServiceInstance[];
  /** Calls made by contexts that belong to no service (the gateway's, a CLI's, a test's). */
  private readonly edge: Outbound;
  private readonly logLevelOf: (service: string) => string | undefined;
  private state: State = "new";
  private loadReports: NodeJS.Timeout | undefined;

  constructor(private readonly options: HostOptions = {}) {
    // Ids become parts of NATS subjects and KV keys: letters, digits, '-' and '_' only.
    const id = options.id ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 6)}`;
    this.id = id.replace(/[^A-Za-z0-9_-]/g, "-");
    this.log = options.logger ?? createLogger();
    this.logLevelOf = serviceLogLevels(options.logLevels);
    this.defaultCallTimeoutMs = options.callTimeoutMs ?? 10_000;
    this.tracer = options.tracer;
    const spec = options.transport ?? "memory://";
    this.transport = resolveTransport(spec, options.transports);
    this.ownsTransport = typeof spec === "string";
    const middleware = options.middleware ?? [];
    const sink = transportSink(this.transport);
    const edgeOptions = { service: undefined, id: this.id, transport: this.transport, log: this.log };
    this.edge = new Outbound(
      { ...edgeOptions, callTimeoutMs: this.defaultCallTimeoutMs, tracer: this.tracer },
      middleware,
      sink,
    );
    const names = new Set<string>();
    this.instances = (options.services ?? []).map((def) => {
      if (names.has(def.name)) {
        throw FlotillaError.of(FlotillaCodes.CONFIG, `service ${def.name} is listed twice`);
      }
      names.add(def.name);
      const instance = `${def.name}-${this.id}`;
      return new ServiceInstance(def, instance, {
        transport: this.transport,
        providers: options.resources ?? [],
        middleware,
        log: this.serviceLog(def.name, instance),
        validateOutput: options.validateOutput ?? false,
        registry: options.registry,
        callTimeoutMs: this.defaultCallTimeoutMs,
        callers: options.callers,
        tracer: this.tracer,
        endpoint: options.endpoint,
      });
    });
  }

  /** A logger for one service's lines: `service` and `instance` bound once, at the level configured for the service. */
  serviceLog(service: string, instance: string, base: Logger = this.log): Logger {
    const level = this.logLevelOf(service);
    return base.child({ service, instance }, level === undefined ? undefined : { level });
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

  /**
   * The orchestrators of the services running here, each with its instance's database, for reading
   * their state in place (a dashboard, an ops port); instances not started yet (or stopped) have none.
   */
  orchestrators(): OrchestratorBinding[] {
    return this.instances.flatMap((i) => i.orchestratorBindings());
  }

  /** A context for work that starts outside any service: an HTTP request, a CLI command, a test. */
  context(opts: EdgeContextOptions = {}): Context {
    const trace = opts.trace ?? parseTraceparent(opts.traceparent, opts.tracestate) ?? newTraceContext();
    return new Context(this.edge, {
      service: undefined,
      instance: undefined,
      trace,
      correlationId: opts.correlationId ?? trace.traceId,
      caller: opts.caller,
      deadline: Date.now() + (opts.timeoutMs ?? this.defaultCallTimeoutMs),
      db: undefined,
      baggage: validBaggage(opts.baggage),
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

  private startLoadReports(everyMs: number): void {
    this.loadReports = setInterval(() => {
      for (const instance of this.instances) {
        instance.reportLoad().catch((err: unknown) => instance.log.warn({ err }, "load report failed"));
      }
    }, everyMs);
    this.loadReports.unref();
  }
}

/** Creates a host; call `start()` on it. */
export function createHost(options: HostOptions = {}): Host {
  return new Host(options);
}
