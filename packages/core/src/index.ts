/** @module Flotilla core: contracts, services, the runtime host, context, errors, middleware, transports. */

export type { Logger } from "pino";
export { canAccess } from "./access.js";
export type { Everyone } from "./audience.js";
export { AUDIENCE_EVERYONE_MARK, AUDIENCE_USER_PREFIX, audienceHeaders, audienceOf, EVERYONE } from "./audience.js";
export { isInstanceFailure } from "./balancing/instance-failure.js";
export { KeyAffinityStrategy } from "./balancing/key-affinity-strategy.js";
export type { LatencyAwareOptions } from "./balancing/latency-aware-strategy.js";
export { LatencyAwareStrategy } from "./balancing/latency-aware-strategy.js";
export { LeastInFlightStrategy } from "./balancing/least-in-flight-strategy.js";
export type { LoadBalancingOptions } from "./balancing/load-balancing.js";
export { loadBalancing } from "./balancing/load-balancing.js";
export { RandomStrategy } from "./balancing/random-strategy.js";
export type { StrategyFactory, StrategySpec } from "./balancing/resolve-strategy.js";
export { builtinStrategies, resolveStrategy } from "./balancing/resolve-strategy.js";
export { RoundRobinStrategy } from "./balancing/round-robin-strategy.js";
export type { PickContext, Random, Strategy } from "./balancing/strategy.js";
export type { CallerVerifier } from "./caller-proof.js";
export type { CallOptions, Dispatcher, Identity } from "./context.js";
export { Context } from "./context.js";
export type {
  ActionRef,
  AnyContract,
  Contract,
  EventDataOf,
  EventRef,
  IdempotencyKeyOptions,
  InputOf,
  OutputOf,
  Schema,
} from "./contract.js";
export { action, defineContract, event } from "./contract.js";
export type { ErrorOptions, Status, WireError } from "./errors.js";
export { FlotillaCodes, FlotillaError, fromWire, isPoison, isStatus, STATUS, toWire } from "./errors.js";
export type { EdgeContextOptions, HostOptions } from "./host.js";
export { createHost, Host } from "./host.js";
export { checkIdempotencyKey } from "./idempotency-key.js";
export type { LogLevels } from "./log-levels.js";
export type { LogFormat, LoggerOptions } from "./logger.js";
export { createLogger } from "./logger.js";
export type { InboundAction, InboundEvent, Middleware, OutboundCall, OutboundEvent } from "./middleware.js";
export { compose } from "./middleware.js";
export type {
  CommandEnvelope,
  CommandOutcome,
  CommandSettler,
  OutboundMessage,
  OutboundSink,
} from "./outbound-sink.js";
export { transportSink } from "./outbound-sink.js";
export { MemoryRegistry } from "./registry/memory-registry.js";
export type { InstanceInfo, Registration, Registry, RegistryTiming } from "./registry/registry.js";
export type { RegistryFactory, RegistrySpec } from "./registry/resolve-registry.js";
export { resolveRegistry } from "./registry/resolve-registry.js";
export type { ResourceHandle, ResourceOwner, ResourceProvider, ResourceSpec } from "./resources.js";
export { isSensitive, REDACTED, redact, sensitive } from "./sensitive.js";
export type {
  AttachedOrchestrator,
  EventMeta,
  OrchestratorDefinition,
  OrchestratorRuntime,
  ProjectionDefinition,
  ServiceDefinition,
  ServiceOptions,
  SubscriptionDefinition,
  SubscriptionDefinitionOf,
  SubscriptionOptions,
} from "./service.js";
export { defineService } from "./service.js";
export type { OrchestratorBinding } from "./service-instance.js";
export type { TraceContext } from "./trace-context.js";
export {
  childTraceContext,
  formatTraceparent,
  newSpanId,
  newTraceContext,
  newTraceId,
  parseTraceparent,
} from "./trace-context.js";
export type { Delivery, EventEnvelope, EventPosition, HeaderMap, RequestEnvelope } from "./transport/envelope.js";
export { Headers } from "./transport/envelope.js";
export type { EventJournal, JournalEntry } from "./transport/event-journal.js";
export type { MemoryTransportOptions } from "./transport/memory-transport.js";
export { MemoryTransport } from "./transport/memory-transport.js";
export type { CallMeta } from "./transport/metadata.js";
export type { TransportFactory, TransportSpec } from "./transport/resolve-transport.js";
export { resolveTransport } from "./transport/resolve-transport.js";
export type {
  DeadLetter,
  DeadLetterStore,
  EventHandler,
  EventHistory,
  PositionedEvent,
  RequestHandler,
  RequestOptions,
  ServeOptions,
  StoredDeadLetter,
  SubscribeOptions,
  Subscription,
  Transport,
} from "./transport/transport.js";
export type { FieldIssue } from "./validation.js";
export { parseOrThrow } from "./validation.js";
