/** @module One running instance of a service: its resources, request server, event subscriptions. */

import { hostname } from "node:os";
import type { Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import { type CallerVerifier, noCallerVerifier } from "./caller-proof.js";
import { Context, type Identity } from "./context.js";
import type { ActionRef } from "./contract.js";
import { FlotillaCodes, FlotillaError } from "./errors.js";
import { compose, type InboundAction, type InboundEvent, type Middleware } from "./middleware.js";
import { Outbound } from "./outbound.js";
import { type CommandEnvelope, type CommandOutcome, type OutboundSink, transportSink } from "./outbound-sink.js";
import type { Registration, Registry } from "./registry/registry.js";
import type { ResourceHandle, ResourceProvider } from "./resources.js";
import type {
  AttachedOrchestrator,
  OrchestratorDefinition,
  ServiceDefinition,
  SubscriptionDefinition,
} from "./service.js";
import { newTraceContext } from "./trace-context.js";
import type { Delivery, EventEnvelope, RequestEnvelope } from "./transport/envelope.js";
import { type CallMeta, mapReader, readMetaHeaders } from "./transport/metadata.js";
import type { Subscription, Transport } from "./transport/transport.js";
import { parseOrThrow } from "./validation.js";

export interface InstanceEnvironment {
  readonly transport: Transport;
  readonly providers: readonly ResourceProvider[];
  readonly middleware: readonly Middleware[];
  /** The instance's logger, with `service` and `instance` bound (see Host.serviceLog). */
  readonly log: Logger;
  readonly validateOutput: boolean;
  /** Where the instance announces itself once it takes traffic (absent: no discovery). */
  readonly registry: Registry | undefined;
  /** Timeout of a call when neither the caller nor the action sets one. */
  readonly callTimeoutMs: number;
  /** Checks the caller proofs that requests and events bring from a wire; absent: such callers are refused. */
  readonly callers: CallerVerifier | undefined;
  readonly tracer: Tracer | undefined;
  /** The ops port's address, registered as the instance's `endpoint` (absent: none). */
  readonly endpoint: string | undefined;
}

/** An orchestrator of a service running here, with the database of its instance (see `Host.orchestrators`). */
export interface OrchestratorBinding {
  readonly service: string;
  readonly instance: string;
  readonly orchestrator: OrchestratorDefinition;
  /** The instance's database (`ctx.db` of its handlers), which holds the orchestrator's state. */
  readonly db: unknown;
}

const LIFECYCLE_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_EVENT_TIMEOUT_MS = 30_000;

interface ActionEntry {
  readonly ref: ActionRef;
  readonly fn: ServiceDefinition["actions"][string];
}

export class ServiceInstance {
  readonly log: Logger;
  private resource: ResourceHandle | undefined;
  private db: unknown;
  private readonly actions = new Map<string, ActionEntry>();
  private readonly subscriptionDefs = new Map<string, SubscriptionDefinition>();
  private readonly subscriptions: Subscription[] = [];
  private inboundAction: (inv: InboundAction) => Promise<unknown> = rejectNotStarted;
  /** No middleware has an action hook: requests skip building an `InboundAction` for them. */
  private bareActions = false;
  private inboundEvent: (inv: InboundEvent) => Promise<void> = rejectNotStarted;
  /** Calls and emits made by this service's handlers: middleware, then the transport or the resource's sink. */
  readonly outbound: Outbound;
  private readonly transportSink: OutboundSink;
  private readonly orchestrators = new Map<string, AttachedOrchestrator>();
  /**
   * Settles once the orchestrators are attached, or the start gave up before: the outbox relay starts
   * with the database, so an outcome of a command it sent (one left from before a crash) can come first.
   */
  private readonly attaching: Promise<void>;
  private attachingDone: () => void = () => {};
  started = false;
  /** Requests this instance is running now: the load it reports to the registry. */
  inFlight = 0;
  private registration: Registration | undefined;

  constructor(
    readonly def: ServiceDefinition,
    readonly instance: string,
    private readonly env: InstanceEnvironment,
  ) {
    this.log = env.log;
    for (const [name, ref] of Object.entries(def.contract.actions as Record<string, ActionRef>)) {
      this.actions.set(ref.fqn, { ref, fn: def.actions[name] as ActionEntry["fn"] });
    }
    for (const sub of def.subscriptions) this.subscriptionDefs.set(this.subscriptionName(sub), sub);
    this.transportSink = transportSink(env.transport, this.settle);
    const options = {
      service: def.name,
      id: instance,
      transport: env.transport,
      log: this.log,
      callTimeoutMs: env.callTimeoutMs,
      tracer: env.tracer,
      calls: def.calls === undefined ? undefined : new Set(def.calls),
    };
    this.outbound = new Outbound(options, env.middleware, this.transportSink);
    this.attaching = new Promise((resolve) => {
      this.attachingDone = resolve;
    });
  }

  /** Opens resources (running migrations), composes pipelines and runs the start hook. */
  async start(): Promise<void> {
    try {
      await this.openAndAttach();
    } finally {
      this.attachingDone();
    }
    await this.def.start?.(this.lifecycleContext());
    this.started = true;
  }

  private async openAndAttach(): Promise<void> {
    const middleware = [...this.env.middleware];
    if (this.def.database !== undefined) {
      const spec = this.def.database;
      const provider = this.env.providers.find((p) => p.kind === spec.kind);
      if (provider === undefined) {
        throw FlotillaError.of(FlotillaCodes.CONFIG, `${this.def.name} needs a "${spec.kind}" resource provider`);
      }
      this.resource = await provider.open(spec, {
        service: this.def.name,
        instance: this.instance,
        log: this.log,
        transport: this.transportSink,
        ...(this.env.tracer ? { tracer: this.env.tracer } : {}),
      });
      this.db = this.resource.value;
      middleware.push(...(this.resource.middleware ?? []));
    }
    this.inboundAction = compose(middleware, "action", (inv: InboundAction) => this.runAction(inv));
    this.bareActions = !middleware.some((m) => m.action !== undefined);
    this.inboundEvent = compose(middleware, "event", (inv: InboundEvent) => this.runEvent(inv));
    const sink = this.resource?.sink ?? this.transportSink;
    this.outbound.plumb(middleware, sink);
    for (const orchestrator of this.def.orchestrators) {
      const attached = await orchestrator.attach({
        service: this.def.name,
        instance: this.instance,
        db: this.db,
        log: this.log.child({ orchestrator: orchestrator.name }),
        send: (message) => sink.send(message),
        ...(this.env.tracer ? { tracer: this.env.tracer } : {}),
        context: () => this.lifecycleContext(),
      });
      this.orchestrators.set(orchestrator.name, attached);
    }
  }

  /** A command's outcome, to the orchestrator that sent it (the outbox relay waits for this). */
  private readonly settle = async (command: CommandEnvelope, outcome: CommandOutcome): Promise<void> => {
    if (!this.orchestrators.has(command.replyTo)) await this.attaching;
    const orchestrator = this.orchestrators.get(command.replyTo);
    if (orchestrator === undefined) {
      throw FlotillaError.of(FlotillaCodes.CONFIG, `${this.def.name} has no orchestrator "${command.replyTo}"`);
    }
    return orchestrator.settle(command, outcome);
  };

  /** Starts taking traffic: subscriptions first, so events emitted by our own actions are not missed. */
  async listen(): Promise<void> {
    for (const sub of this.def.subscriptions) {
      const subscription = await this.env.transport.subscribe(
        {
          types: [sub.event.type],
          ...(sub.broadcast ? {} : { group: this.subscriptionName(sub) }),
          instance: this.instance,
          maxInFlight: sub.maxInFlight ?? 16,
          maxDeliveries: sub.maxDeliveries ?? 5,
          backoffMs: (attempt) => Math.min(30_000, 100 * 2 ** (attempt - 1)),
        },
        (event, delivery) => this.handleEvent(sub, event, delivery),
      );
      this.subscriptions.push(subscription);
    }
    if (this.actions.size > 0) {
      const server = await this.env.transport.serve(
        {
          service: this.def.name,
          instance: this.instance,
          maxInFlight: this.def.maxInFlight,
          maxQueued: this.def.maxQueued,
          version: this.def.contract.version,
          actions: [...this.actions.keys()],
        },
        this.handleRequest,
      );
      this.subscriptions.push(server);
    }
    await this.register();
  }

  /** Refreshes what the registry's next heartbeat reports. */
  async reportLoad(): Promise<void> {
    this.registration?.update({ ready: await this.isReady(), load: { inFlight: this.inFlight } });
  }

  private async register(): Promise<void> {
    const registry = this.env.registry;
    if (registry === undefined) return;
    this.registration = await registry.register({
      service: this.def.name,
      instance: this.instance,
      version: this.def.contract.version,
      host: hostname(),
      pid: process.pid,
      actions: [...this.actions.keys()],
      events: this.def.subscriptions.map((s) => s.event.type),
      startedAt: new Date().toISOString(),
      ready: await this.isReady(),
      load: { inFlight: 0 },
      ...(this.env.endpoint === undefined ? {} : { endpoint: this.env.endpoint }),
    });
  }

  /** Each orchestrator with this instance's database, while it is attached (between start and close). */
  orchestratorBindings(): OrchestratorBinding[] {
    return this.def.orchestrators
      .filter((o) => this.orchestrators.has(o.name))
      .map((orchestrator) => ({ service: this.def.name, instance: this.instance, orchestrator, db: this.db }));
  }

  async isReady(): Promise<boolean> {
    return this.started && ((await this.def.ready?.()) ?? true);
  }

  /** Stops taking new work and waits for in-flight requests and events. */
  async drain(): Promise<void> {
    // Leave the registry first, so balancing callers stop choosing this instance while it drains.
    const registration = this.registration;
    this.registration = undefined;
    await registration?.deregister();
    await Promise.all(this.subscriptions.splice(0).map((s) => s.close()));
  }

  /** Runs the stop hook if the instance had started, then closes whatever resource was opened. */
  async close(): Promise<void> {
    const wasStarted = this.started;
    this.started = false;
    try {
      if (wasStarted) await this.def.stop?.(this.lifecycleContext());
    } finally {
      for (const orchestrator of this.orchestrators.values()) {
        await orchestrator.stop?.().catch((err: unknown) => this.log.warn({ err }, "orchestrator failed to stop"));
      }
      this.orchestrators.clear();
      const resource = this.resource;
      this.resource = undefined;
      await resource?.close();
    }
  }

  /** The transport's request handler: the reply, or a promise of it when the action is asynchronous. */
  private readonly handleRequest = (req: RequestEnvelope): unknown => {
    const entry = this.actions.get(req.action);
    if (entry === undefined) {
      throw FlotillaError.of(FlotillaCodes.NO_HANDLER, `${this.def.name} has no action ${req.action}`);
    }
    const proof = req.meta.callerProof;
    if (proof === undefined) return this.serve(entry, req, req.meta);
    // A caller from a wire counts only once its proof checks out; a failed proof fails the request.
    const verifier = this.env.callers;
    if (verifier === undefined) throw noCallerVerifier();
    const caller = verifier.verify(proof, Date.now());
    if (isPromise(caller)) return caller.then((c) => this.serve(entry, req, { ...req.meta, caller: c }));
    return this.serve(entry, req, { ...req.meta, caller });
  };

  private serve(entry: ActionEntry, req: RequestEnvelope, meta: CallMeta): unknown {
    const ctx = this.context(meta);
    if (this.bareActions) return this.invoke(entry, ctx, req.payload);
    return this.inboundAction({ ref: entry.ref, ctx, request: req, input: req.payload });
  }

  /** The last step of the action pipeline, whose steps pass promises. */
  private runAction(inv: InboundAction): Promise<unknown> {
    try {
      return Promise.resolve(this.invoke(this.actions.get(inv.ref.fqn) as ActionEntry, inv.ctx, inv.input));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Validates the input and runs the handler. A handler that returns a plain value gets its checked
   * output back at once, no promise made; failures throw (or reject, for a promise).
   */
  private invoke(entry: ActionEntry, ctx: Context, input: unknown): unknown {
    const ref = entry.ref;
    let output: unknown;
    try {
      const valid = parseOrThrow(ref.input, input, `input for ${ref.fqn}`);
      this.inFlight++;
      try {
        output = entry.fn(valid, ctx);
      } finally {
        if (!isPromise(output)) this.inFlight--;
      }
    } catch (err) {
      throw this.failure(ref, ctx, err);
    }
    if (isPromise(output)) {
      return output.then(
        (value) => {
          this.inFlight--;
          return this.checkOutput(ref, ctx, value);
        },
        (err: unknown) => {
          this.inFlight--;
          throw this.failure(ref, ctx, err);
        },
      );
    }
    return this.checkOutput(ref, ctx, output);
  }

  private checkOutput(ref: ActionRef, ctx: Context, output: unknown): unknown {
    if (!this.env.validateOutput) return output;
    const result = ref.output.safeParse(output);
    if (result.success) return result.data;
    const err = FlotillaError.of(FlotillaCodes.INVALID_OUTPUT, `${ref.fqn} returned output its contract rejects`, {
      details: { issues: result.error.issues },
    });
    throw this.failure(ref, ctx, err);
  }

  /** Wraps what a handler threw; unexpected failures are logged once, here, where the stack is. */
  private failure(ref: ActionRef, ctx: Context, err: unknown): FlotillaError {
    const fe = FlotillaError.from(err);
    if (fe.status === "INTERNAL" || fe.status === "UNKNOWN") {
      ctx.log.error({ err, action: ref.fqn }, "action failed");
    }
    return fe;
  }

  private handleEvent(sub: SubscriptionDefinition, envelope: EventEnvelope, delivery: Delivery): Promise<void> {
    const deadline = Date.now() + (sub.timeoutMs ?? DEFAULT_EVENT_TIMEOUT_MS);
    const meta = readMetaHeaders(mapReader(envelope.headers), deadline, newTraceContext);
    if (meta.callerProof === undefined) return this.deliver(sub, envelope, delivery, meta);
    const caller = this.eventCaller(meta.callerProof, envelope);
    if (isPromise(caller)) return caller.then((c) => this.deliver(sub, envelope, delivery, { ...meta, caller: c }));
    return this.deliver(sub, envelope, delivery, { ...meta, caller });
  }

  /**
   * Who caused an event: its proof checked at the event's own time, so a redelivery hours later still
   * names them. An event is not refused for its caller (it is a fact that happened); a proof that
   * fails leaves the handler with no caller, and a warning.
   */
  private eventCaller(proof: string, envelope: EventEnvelope): Identity | undefined | Promise<Identity | undefined> {
    const refuse = (err: unknown): undefined => {
      this.log.warn({ err, event: envelope.id, type: envelope.type }, "event caller not verified; handled without one");
      return undefined;
    };
    const verifier = this.env.callers;
    if (verifier === undefined) return refuse(noCallerVerifier());
    try {
      const caller = verifier.verify(proof, Date.parse(envelope.time) || Date.now());
      return isPromise(caller) ? caller.then(undefined, refuse) : caller;
    } catch (err) {
      return refuse(err);
    }
  }

  private deliver(sub: SubscriptionDefinition, envelope: EventEnvelope, delivery: Delivery, meta: CallMeta) {
    const ctx = this.context(meta);
    const subscription = this.subscriptionName(sub);
    // Broadcast handlers act on their own instance (a cache, a connection): nothing to deduplicate across instances.
    const exactlyOnce = !sub.broadcast && (sub.exactlyOnce ?? true);
    return this.inboundEvent({
      ref: sub.event,
      ctx,
      envelope,
      delivery,
      subscription,
      exactlyOnce,
      data: envelope.data,
    });
  }

  private async runEvent(inv: InboundEvent): Promise<void> {
    const sub = this.subscriptionDefs.get(inv.subscription);
    if (sub === undefined) throw FlotillaError.of(FlotillaCodes.NO_HANDLER, `no handler ${inv.subscription}`);
    inv.data = parseOrThrow(inv.ref.schema, inv.data, `data of ${inv.envelope.type} event ${inv.envelope.id}`);
    try {
      await sub.handle(inv.data, inv.ctx, { envelope: inv.envelope, delivery: inv.delivery });
    } catch (err) {
      inv.ctx.log.warn({ err, event: inv.envelope.id, attempt: inv.delivery.attempt }, "event handler failed");
      throw err;
    }
  }

  private subscriptionName(s: SubscriptionDefinition): string {
    return s.broadcast ? s.name : `${this.def.name}.${s.name}`;
  }

  private context(meta: CallMeta): Context {
    return new Context(this.outbound, {
      service: this.def.name,
      instance: this.instance,
      trace: meta.trace,
      correlationId: meta.correlationId,
      caller: meta.caller,
      deadline: meta.deadline,
      db: this.db,
      baggage: meta.baggage,
    });
  }

  private lifecycleContext(): Context {
    return new Context(this.outbound, {
      service: this.def.name,
      instance: this.instance,
      trace: newTraceContext(),
      correlationId: `${this.instance}.lifecycle`,
      caller: undefined,
      deadline: Date.now() + LIFECYCLE_TIMEOUT_MS,
      db: this.db,
    });
  }
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as Promise<unknown> | undefined)?.then === "function";
}

function rejectNotStarted(): Promise<never> {
  return Promise.reject(FlotillaError.of(FlotillaCodes.NOT_STARTED, "service instance is not started"));
}
