/** @module Services: a contract's implementation, its event handlers, lifecycle hooks and resources. */
import type { z } from "zod";
import type { Context } from "./context.js";
import type { ActionRef, AnyContract, EventRef, Schema } from "./contract.js";
import { FlotillaCodes, FlotillaError } from "./errors.js";
import type { CommandEnvelope, CommandOutcome, OutboundMessage } from "./outbound-sink.js";
import type { ResourceSpec } from "./resources.js";
import type { Delivery, EventEnvelope } from "./transport/envelope.js";

type MaybePromise<T> = T | Promise<T>;

type ActionImpls<C extends AnyContract, DB> = {
  [K in keyof C["actions"]]: C["actions"][K] extends { input: infer I extends Schema; output: infer O extends Schema }
    ? (input: z.output<I>, ctx: Context<DB>) => MaybePromise<z.input<O>>
    : never;
};

export interface EventMeta {
  readonly envelope: EventEnvelope;
  readonly delivery: Delivery;
}

export interface SubscriptionOptions {
  /** Every instance gets every event (e.g. to refresh a local cache), instead of one per service. */
  broadcast?: boolean;
  /** Events this instance handles at once for this subscription (default 16; 1 keeps strict order). */
  maxInFlight?: number;
  /** Deliveries before the event is dead-lettered (default 5). */
  maxDeliveries?: number;
  /** Time a handler may take before its context's deadline passes (default 30 s). */
  timeoutMs?: number;
  /**
   * With a database (default true): the handler runs in one transaction of the service's database
   * together with the inbox record of the event, so a redelivered event is acknowledged without running
   * again, and events it emits commit with its effect. False runs it outside any transaction: it must
   * then be idempotent itself.
   */
  exactlyOnce?: boolean;
}

type SubscriptionDefs<Subs extends Record<string, EventRef>, DB> = {
  [K in keyof Subs]: SubscriptionOptions & {
    event: Subs[K];
    handle(data: z.output<Subs[K]["schema"]>, ctx: Context<DB>, meta: EventMeta): Promise<void>;
  };
};

/**
 * A read model built from events (see `defineProjection` in @flotilla/data): its subscriptions run like
 * the service's own, and `reset` empties what they built, so it can be rebuilt from the event history.
 */
export interface ProjectionDefinition<DB = unknown> {
  readonly kind: "projection";
  readonly name: string;
  /**
   * By handler name; they become the service's subscriptions `<projection>.<handler>`. Their `handle`
   * is the live one: it parks the event while a rebuild runs.
   */
  readonly subscriptions: Readonly<Record<string, SubscriptionDefinitionOf<DB>>>;
  /** The same handlers as written, by the same names: what a rebuild applies the history with. */
  readonly handlers: Readonly<
    Record<
      string,
      { readonly event: EventRef; handle(data: unknown, ctx: Context<DB>, meta: EventMeta): Promise<void> }
    >
  >;
  /** Deletes everything the projection built (its tables' rows), inside the rebuild's transaction. */
  reset(db: DB): Promise<void>;
}

/**
 * Code that drives other services by commands and advances when their outcomes (or events) arrive:
 * a saga orchestrator. Its state lives in the service's database; its commands leave through the
 * service's outbox in the transaction that decided them, and their outcomes come back to `settle`.
 */
export interface OrchestratorDefinition<DB = unknown> {
  readonly kind: "orchestrator";
  /** Unique within the service: commands name it as the one to take their outcome. */
  readonly name: string;
  /** Event handlers by name; they become the service's subscriptions `<orchestrator>.<handler>`. */
  readonly subscriptions?: Readonly<Record<string, SubscriptionDefinitionOf<DB>>>;
  /** The actions its commands target (a saga's steps and compensations): what its service needs to call. */
  readonly calls?: readonly ActionRef[];
  /**
   * Called once per instance, after its database opened and before the service's start hook; throws
   * to refuse the start (e.g. state in flight that no definition can finish).
   */
  attach(runtime: OrchestratorRuntime<DB>): Promise<AttachedOrchestrator>;
}

/** What an instance gives each of its orchestrators. */
export interface OrchestratorRuntime<DB = unknown> {
  readonly service: string;
  readonly instance: string;
  /** The service's database (`ctx.db` of its handlers). */
  readonly db: DB;
  readonly log: import("pino").Logger;
  /**
   * Stores or sends a message past the service's middleware: to the outbox (in the transaction
   * running in this async context, if any) when the service has a database, else to the transport.
   */
  send(message: OutboundMessage): Promise<void>;
  /** Opens the orchestrator's spans (a saga step sent, an outcome settled); none when absent. */
  readonly tracer?: import("@opentelemetry/api").Tracer;
  /** A context for work the orchestrator does on its own (settling an outcome): no caller. */
  context(): Context<DB>;
}

export interface AttachedOrchestrator {
  /** Records a command's outcome and decides what follows; a rejection makes the command be sent again. */
  settle(command: CommandEnvelope, outcome: CommandOutcome): Promise<void>;
  /** Runs when the instance stops, before its database closes. */
  stop?(): Promise<void>;
}

export interface SubscriptionDefinitionOf<DB> extends SubscriptionOptions {
  readonly event: EventRef;
  handle(data: unknown, ctx: Context<DB>, meta: EventMeta): Promise<void>;
}

export interface ServiceOptions<C extends AnyContract, DB, Subs extends Record<string, EventRef>> {
  /** This service's own database; handlers see it as `ctx.db`. */
  database?: ResourceSpec<DB>;
  actions: ActionImpls<C, DB>;
  /**
   * The actions of other services its handlers call (`ctx.call`). Declared, a call to any other action
   * is refused with FLOTILLA_CALL_NOT_DECLARED, and least-privilege NATS credentials allow exactly these
   * (with its orchestrators' targets); undeclared, it may call anything.
   */
  calls?: readonly ActionRef[];
  /** Event handlers by name; the name keeps the durable consumer stable across deploys. */
  subscriptions?: SubscriptionDefs<Subs, DB>;
  /** Read models this service keeps in its database, built from events. */
  projections?: readonly ProjectionDefinition<DB>[];
  /** Orchestrators (sagas) this service runs, with their state in its database. */
  orchestrators?: readonly OrchestratorDefinition<NoInfer<DB>>[];
  /** Runs before the instance takes traffic (e.g. seed data, warm caches). */
  start?(ctx: Context<DB>): Promise<void>;
  /** Runs after the instance drained its in-flight work, before resources close. */
  stop?(ctx: Context<DB>): Promise<void>;
  /** Readiness beyond "started" (e.g. a dependency is reachable). */
  ready?(): MaybePromise<boolean>;
  /** Requests handled at once per instance (default 256); more wait. */
  maxInFlight?: number;
  /** Requests allowed to wait per instance before FLOTILLA_OVERLOADED (default 1024). */
  maxQueued?: number;
}

export interface SubscriptionDefinition extends SubscriptionOptions {
  readonly name: string;
  /** The projection this subscription belongs to, if any. */
  readonly projection?: string;
  readonly event: EventRef;
  handle(data: unknown, ctx: Context<unknown>, meta: EventMeta): Promise<void>;
}

/** A service as the host sees it: type parameters erased. */
export interface ServiceDefinition {
  readonly kind: "service";
  readonly name: string;
  readonly contract: AnyContract;
  readonly database: ResourceSpec | undefined;
  readonly actions: Readonly<Record<string, (input: unknown, ctx: Context<unknown>) => MaybePromise<unknown>>>;
  /** Fully qualified names (`catalog.getProducts`) of the actions it declared it calls; undefined: not declared. */
  readonly calls?: readonly string[] | undefined;
  readonly subscriptions: readonly SubscriptionDefinition[];
  readonly projections: readonly ProjectionDefinition[];
  readonly orchestrators: readonly OrchestratorDefinition[];
  readonly start: ((ctx: Context<unknown>) => Promise<void>) | undefined;
  readonly stop: ((ctx: Context<unknown>) => Promise<void>) | undefined;
  readonly ready: (() => MaybePromise<boolean>) | undefined;
  readonly maxInFlight: number;
  readonly maxQueued: number;
}

export function defineService<
  C extends AnyContract,
  DB = undefined,
  Subs extends Record<string, EventRef> = Record<never, EventRef>,
>(contract: C, options: ServiceOptions<C, DB, Subs>): ServiceDefinition {
  const impls = options.actions as unknown as Record<string, ServiceDefinition["actions"][string]>;
  for (const name of Object.keys(contract.actions)) {
    if (typeof impls[name] !== "function") {
      throw FlotillaError.of(FlotillaCodes.CONFIG, `${contract.service}: action "${name}" has no implementation`);
    }
    // Keys are stored in the service's own database: without one, a key would be silently ignored.
    if (contract.actions[name]?.idempotencyKey !== undefined && options.database === undefined) {
      throw FlotillaError.of(
        FlotillaCodes.CONFIG,
        `${contract.service}: action "${name}" accepts an idempotency key, which needs the service's database`,
      );
    }
  }
  for (const name of Object.keys(impls)) {
    if (!(name in contract.actions)) {
      throw FlotillaError.of(FlotillaCodes.CONFIG, `${contract.service}: "${name}" is not an action of the contract`);
    }
  }
  const subscriptions: SubscriptionDefinition[] = Object.entries(options.subscriptions ?? {}).map(([name, def]) => {
    const sub = def as SubscriptionDefinition;
    return { ...sub, name };
  });
  const projections = (options.projections ?? []) as readonly ProjectionDefinition[];
  const orchestrators = (options.orchestrators ?? []) as readonly OrchestratorDefinition[];
  const addSubscriptions = (owner: string, defs: Readonly<Record<string, unknown>>, projection?: string) => {
    for (const [handler, def] of Object.entries(defs)) {
      const name = `${owner}.${handler}`;
      if (subscriptions.some((s) => s.name === name)) {
        throw FlotillaError.of(FlotillaCodes.CONFIG, `${contract.service}: subscription "${name}" is defined twice`);
      }
      const sub = { ...(def as SubscriptionDefinitionOf<unknown>), name };
      subscriptions.push(projection === undefined ? sub : { ...sub, projection });
    }
  };
  for (const projection of projections) addSubscriptions(projection.name, projection.subscriptions, projection.name);
  const orchestratorNames = new Set<string>();
  for (const orchestrator of orchestrators) {
    if (orchestratorNames.has(orchestrator.name)) {
      throw FlotillaError.of(
        FlotillaCodes.CONFIG,
        `${contract.service}: orchestrator "${orchestrator.name}" is defined twice`,
      );
    }
    orchestratorNames.add(orchestrator.name);
    addSubscriptions(orchestrator.name, orchestrator.subscriptions ?? {});
  }
  return Object.freeze({
    kind: "service",
    name: contract.service,
    contract,
    database: options.database,
    actions: impls,
    calls: options.calls === undefined ? undefined : [...new Set(options.calls.map((ref) => ref.fqn))],
    subscriptions,
    projections,
    orchestrators,
    start: options.start as ServiceDefinition["start"],
    stop: options.stop as ServiceDefinition["stop"],
    ready: options.ready,
    maxInFlight: options.maxInFlight ?? 256,
    maxQueued: options.maxQueued ?? 1024,
  });
}
