/** @module Hot reload (`flotilla dev`): the source graph, which units a change concerns, the watcher. */
export type { HotReload, HotReloadOptions, Reload, ReloadTarget } from "./hot-reload.js";
export { startHotReload } from "./hot-reload.js";
export type { ImportEdge, ImportGraph, ImportGraphReader } from "./import-graph.js";
export { importGraphReader, reachable, readImportGraph } from "./import-graph.js";
export type { ModuleLoader, ServiceModules } from "./service-modules.js";
export { serviceModules } from "./service-modules.js";
export type { SourceWatcherOptions } from "./source-watcher.js";
export { SourceWatcher } from "./source-watcher.js";
export type { UnitSources } from "./unit-sources.js";
export { affectedUnits, MANIFESTS, unitSources } from "./unit-sources.js";
