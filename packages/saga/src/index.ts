/** @module Flotilla sagas: durable, versioned orchestration with compensation, state kept in the service's own database. */
export type { SagaStatus } from "./decide.js";
export type {
  RetryPolicy,
  SagaDefinition,
  SagaFailure,
  SagaHooks,
  SagaOptions,
  SagaState,
  StepInfo,
  StepSpec,
} from "./define-saga.js";
export { defineSaga, SagaBuilder } from "./define-saga.js";
export type { SagaOrchestrator, SagaOrchestratorOptions, StartOptions } from "./saga-orchestrator.js";
export { isSagaOrchestrator, sagaOrchestrator } from "./saga-orchestrator.js";
export type { SagaCount, SagaDetails, SagaFilter, SagaHistoryEntry, SagaSummary } from "./saga-queries.js";
