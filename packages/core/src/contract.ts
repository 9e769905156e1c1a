/** @module Contracts: a service's actions and events, each with a zod schema and a version. */
import type { z } from "zod";
import type { Everyone } from "./audience.js";
import { FlotillaCodes, FlotillaError, type Status } from "./errors.js";

export type Schema = z.ZodType;

export interface ActionOptions<I extends Schema, O extends Schema> {
  input: I;
  output: O;
  /** Schema version of this action; bump on a breaking change (and add a new action beside it). */
  version?: number;
  /** Safe to run twice with the same input: resilience may retry it. */
  idempotent?: boolean;
  /**
   * Accepts an idempotency key (the `idempotency-key` header, HTTP's `Idempotency-Key`): the runtime of
   * the owning service's database stores the first answer per (caller, action, key) and gives it again
   * for a repeat, without running the handler. Not the same as `idempotent` (safe to retry as it is).
   */
  idempotencyKey?: boolean | IdempotencyKeyOptions;
  /** Default call timeout in ms for this action. */
  timeoutMs?: number;
  description?: string;
}

export interface IdempotencyKeyOptions {
  /** How long a key's answer is kept, in ms (default 24 hours); a key used again later runs anew. */
  ttlMs?: number;
}

export interface ActionRef<I extends Schema = Schema, O extends Schema = Schema> {
  readonly kind: "action";
  readonly service: string;
  readonly name: string;
  /** `service.name`: the address used on every transport. */
  readonly fqn: string;
  readonly version: number;
  readonly input: I;
  readonly output: O;
  readonly idempotent: boolean;
  /** Set when the action accepts an idempotency key (`ActionOptions.idempotencyKey`). */
  readonly idempotencyKey: Readonly<IdempotencyKeyOptions> | undefined;
  readonly timeoutMs: number | undefined;
  readonly description: string | undefined;
  /**
   * The domain error codes of the action's contract, with their statuses: a failure with one of these
   * is an answer of the service (a declined card), not a fault of the way there (a timeout).
   */
  readonly errors: Readonly<Record<string, Status>>;
}

export interface EventOptions<S extends Schema> {
  schema: S;
  version?: number;
  description?: string;
  /**
   * The user an event concerns, from its data (e.g. `(d) => d.customerId`): the emitter marks each
   * event with it (`flotilla-audience` header), and the gateway's live push delivers it to that user only.
   * `EVERYONE` marks an event for every signed-in caller (an announcement); undefined, for no one.
   */
  audience?(data: z.output<S>): string | Everyone | undefined;
}

export interface EventRef<S extends Schema = Schema> {
  readonly kind: "event";
  readonly service: string;
  readonly name: string;
  /** `service.Name`: the event type on every transport. */
  readonly type: string;
  readonly version: number;
  readonly schema: S;
  readonly description: string | undefined;
  /** Who the event concerns (see EventOptions.audience); absent for events that concern no one user. */
  audience?(data: z.output<S>): string | Everyone | undefined;
}

/** What `action()` returns before `defineContract` binds it to a service name. */
export interface ActionSpec<I extends Schema, O extends Schema> extends ActionOptions<I, O> {
  readonly kind: "action";
}
export interface EventSpec<S extends Schema> extends EventOptions<S> {
  readonly kind: "event";
}

export const action = <I extends Schema, O extends Schema>(o: ActionOptions<I, O>): ActionSpec<I, O> => ({
  kind: "action",
  ...o,
});
export const event = <S extends Schema>(o: EventOptions<S>): EventSpec<S> => ({ kind: "event", ...o });

type ActionSpecs = Record<string, ActionSpec<Schema, Schema>>;
type EventSpecs = Record<string, EventSpec<Schema>>;
type ErrorSpecs = Record<string, Status>;

type BoundActions<A extends ActionSpecs> = {
  readonly [K in keyof A]: A[K] extends ActionSpec<infer I, infer O> ? ActionRef<I, O> : never;
};
type BoundEvents<E extends EventSpecs> = {
  readonly [K in keyof E]: E[K] extends EventSpec<infer S> ? EventRef<S> : never;
};

export interface ContractMeta<A extends ActionSpecs, E extends EventSpecs, Er extends ErrorSpecs> {
  readonly service: string;
  readonly version: string;
  readonly actions: BoundActions<A>;
  readonly events: BoundEvents<E>;
  readonly errors: Er;
  /** Creates one of this contract's declared domain errors with the status the contract gives it. */
  error(code: keyof Er & string, message: string, details?: unknown): FlotillaError;
}

/** Any contract, for constraints: the metadata without the top-level refs (their index signatures clash). */
export type AnyContract = ContractMeta<ActionSpecs, EventSpecs, ErrorSpecs>;

/** A contract: its metadata plus every action and event ref at the top level (`catalog.getProduct`). */
export type Contract<
  A extends ActionSpecs = ActionSpecs,
  E extends EventSpecs = EventSpecs,
  Er extends ErrorSpecs = ErrorSpecs,
> = ContractMeta<A, E, Er> & BoundActions<A> & BoundEvents<E>;

export interface ContractDefinition<A extends ActionSpecs, E extends EventSpecs, Er extends ErrorSpecs> {
  service: string;
  version?: string;
  actions?: A;
  events?: E;
  /** Domain error codes this service returns, each mapped to a status category. */
  errors?: Er;
}

const RESERVED = new Set(["service", "version", "actions", "events", "errors", "error"]);
const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const MEMBER_NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;

export function defineContract<
  A extends ActionSpecs = Record<never, never>,
  E extends EventSpecs = Record<never, never>,
  Er extends ErrorSpecs = Record<never, never>,
>(def: ContractDefinition<A, E, Er>): Contract<A, E, Er> {
  const { service } = def;
  if (!SERVICE_NAME.test(service)) {
    throw configError(`service name "${service}" must match ${SERVICE_NAME} (it becomes part of subjects)`);
  }
  const actions: Record<string, ActionRef> = {};
  const events: Record<string, EventRef> = {};
  const errorSpecs = Object.freeze({ ...(def.errors ?? {}) }) as Er;
  for (const [name, spec] of Object.entries(def.actions ?? {})) {
    checkMember(service, name, actions, events);
    actions[name] = Object.freeze({
      kind: "action",
      service,
      name,
      fqn: `${service}.${name}`,
      version: spec.version ?? 1,
      input: spec.input,
      output: spec.output,
      idempotent: spec.idempotent ?? false,
      idempotencyKey: keyOptions(service, name, spec.idempotencyKey),
      timeoutMs: spec.timeoutMs,
      description: spec.description,
      errors: errorSpecs,
    });
  }
  for (const [name, spec] of Object.entries(def.events ?? {})) {
    checkMember(service, name, actions, events);
    events[name] = Object.freeze({
      kind: "event",
      service,
      name,
      type: `${service}.${name}`,
      version: spec.version ?? 1,
      schema: spec.schema,
      description: spec.description,
      ...(spec.audience === undefined ? {} : { audience: spec.audience }),
    });
  }
  const meta: ContractMeta<A, E, Er> = {
    service,
    version: def.version ?? "1.0.0",
    actions: actions as BoundActions<A>,
    events: events as BoundEvents<E>,
    errors: errorSpecs,
    error(code, message, details) {
      const status = errorSpecs[code];
      if (status === undefined) throw configError(`${service} declares no error code ${code}`);
      return new FlotillaError(code, message, { status, details });
    },
  };
  return Object.freeze({ ...actions, ...events, ...meta }) as Contract<A, E, Er>;
}

function checkMember(service: string, name: string, a: object, e: object): void {
  if (!MEMBER_NAME.test(name)) throw configError(`${service}: member name "${name}" must match ${MEMBER_NAME}`);
  if (RESERVED.has(name)) throw configError(`${service}: "${name}" is reserved in a contract`);
  if (name in a || name in e) throw configError(`${service}: "${name}" is declared twice`);
}

function keyOptions(
  service: string,
  name: string,
  spec: boolean | IdempotencyKeyOptions | undefined,
): Readonly<IdempotencyKeyOptions> | undefined {
  if (spec === undefined || spec === false) return undefined;
  if (spec === true) return Object.freeze({});
  if (spec.ttlMs !== undefined && !(spec.ttlMs > 0)) {
    throw configError(`${service}.${name}: idempotencyKey.ttlMs must be positive`);
  }
  return Object.freeze({ ...spec });
}

function configError(message: string): FlotillaError {
  return FlotillaError.of(FlotillaCodes.CONFIG, message);
}

export type InputOf<R> = R extends ActionRef<infer I, Schema> ? z.input<I> : never;
export type OutputOf<R> = R extends ActionRef<Schema, infer O> ? z.output<O> : never;
export type EventDataOf<R> = R extends EventRef<infer S> ? z.output<S> : never;
