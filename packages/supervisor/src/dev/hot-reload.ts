/**
 * @module Hot reload for `flotilla dev`: watches an app's source and, on a change, restarts only the
 * deployment units whose modules changed, one rolling restart per unit (the supervisor starts a new
 * instance, waits until it is ready, then drains the old one), so the other units and the gateway keep
 * serving and nothing accepted is dropped.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { FlotillaApp, ResolvedUnit } from "@flotilla/app";
import { context, type Span, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import { type ImportGraph, importGraphReader } from "./import-graph.js";
import { type ModuleLoader, serviceModules } from "./service-modules.js";
import { SourceWatcher } from "./source-watcher.js";
import { affectedUnits, isRelevant, MANIFESTS, type UnitSources, unitSources } from "./unit-sources.js";

/** What hot reload needs of a supervisor (`Supervisor.restart`): a rolling restart of one unit. */
export interface ReloadTarget {
  restart(unit: string): Promise<void>;
}

/** One reload: the changed files it answered, the units it restarted, and what failed. */
export interface Reload {
  /** Changed modules and manifests (absolute paths); editors' temporary files are left out. */
  readonly files: readonly string[];
  /** Units restarted (or tried), in the app's order. */
  readonly units: readonly string[];
  /** The source did not load (`FLOTILLA_DEV_SOURCE`): nothing was restarted; the files wait for the fix. */
  readonly sourceError?: Error;
  /** Units whose restart failed, with the supervisor's error; their old instances keep running. */
  readonly failed: ReadonlyMap<string, Error>;
  /** From the end of the burst of changes to the end of the last restart. */
  readonly durationMs: number;
}

export interface HotReloadOptions {
  readonly app: FlotillaApp;
  /** The app module (the path `flotilla dev --app` names). */
  readonly appPath: string;
  /** The units the supervisor runs (`deploymentUnits(app, layout)`). */
  readonly units: readonly ResolvedUnit[];
  readonly target: ReloadTarget;
  /** Quiet time closing a burst of file changes (default 100 ms). */
  readonly debounceMs?: number;
  /** Called after each reload. */
  readonly onReload?: (reload: Reload) => void;
  /** A directory that could not be watched. */
  readonly onWatchError?: (dir: string, err: Error) => void;
  readonly tracer?: Tracer;
  /** How the defining modules of services are looked up (default: `import()` through the running loader). */
  readonly load?: ModuleLoader;
}

/** A running hot reload. */
export interface HotReload {
  /** Each unit's files, as of the last reload. */
  sources(): UnitSources;
  /** Services defined in the app module itself: any change the app module reaches restarts their unit. */
  readonly inline: readonly string[];
  /** The directories watched. */
  directories(): string[];
  /** Resolves when every change seen so far has been handled. */
  idle(): Promise<void>;
  /** Stops watching, after the reload under way (if any) ends. */
  close(): Promise<void>;
}

/** Reads the source graph, finds each service's module, and starts watching. */
export async function startHotReload(options: HotReloadOptions): Promise<HotReload> {
  const entry = resolve(options.appPath);
  const tracer = options.tracer ?? trace.getTracer("@flotilla/supervisor");
  const reader = await importGraphReader(entry);
  let graph = await reader.read().catch(async (err: unknown) => {
    await reader.dispose();
    throw err;
  });
  const found = await serviceModules(options.app, graph, options.load);
  const modules = new Map(found.modules);
  let sources = unitSources(graph, options.units, modules);
  /** Relevant changed files not yet answered by a reload (kept while the source does not load). */
  const owed = new Set<string>();
  let chain = Promise.resolve();

  const watcher = new SourceWatcher({
    debounceMs: options.debounceMs,
    onError: options.onWatchError,
    onChange(paths) {
      const relevant = paths.filter((p) => isRelevant(p, sources));
      // While the source does not load, any change may be the fix (e.g. creating a file an import names).
      if (relevant.length === 0 && owed.size === 0) return;
      for (const p of relevant) owed.add(p);
      chain = chain.then(reload);
    },
  });
  watcher.watch(watchedDirectories(graph));

  async function reload(): Promise<void> {
    if (owed.size === 0) return;
    const files = [...owed];
    owed.clear();
    const started = performance.now();
    const span = tracer.startSpan("flotilla.dev.reload", { attributes: { "flotilla.dev.files": files } });
    try {
      const next = await reader.read();
      for (const [service, module] of modules) if (!next.modules.has(module)) modules.set(service, entry);
      const nextSources = unitSources(next, options.units, modules);
      const units = affectedUnits(files, entry, sources, nextSources);
      graph = next;
      sources = nextSources;
      watcher.watch(watchedDirectories(graph));
      span.setAttribute("flotilla.dev.units", units);
      const failed = await restartAll(units, span);
      if (failed.size > 0) span.setStatus({ code: SpanStatusCode.ERROR, message: `${failed.size} unit(s) failed` });
      options.onReload?.({ files, units, failed, durationMs: performance.now() - started });
    } catch (err) {
      // Kept for the next reload: the fix may come in another file than the one that changed.
      for (const file of files) owed.add(file);
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      const durationMs = performance.now() - started;
      options.onReload?.({ files, units: [], sourceError: err as Error, failed: new Map(), durationMs });
    } finally {
      span.end();
    }
  }

  async function restartAll(units: readonly string[], parent: Span): Promise<Map<string, Error>> {
    const failed = new Map<string, Error>();
    const parentContext = trace.setSpan(context.active(), parent);
    await Promise.all(
      units.map(async (unit) => {
        const span = tracer.startSpan("flotilla.dev.restart", { attributes: { "flotilla.unit": unit } }, parentContext);
        try {
          await options.target.restart(unit);
        } catch (err) {
          failed.set(unit, err as Error);
          span.recordException(err as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        } finally {
          span.end();
        }
      }),
    );
    return failed;
  }

  return {
    sources: () => sources,
    inline: found.inline,
    directories: () => watcher.directories(),
    idle: () => chain,
    async close() {
      watcher.close();
      await chain;
      await reader.dispose();
    },
  };
}

/** The directories of the graph's modules, and the package roots above them (where the manifests are). */
function watchedDirectories(graph: ImportGraph): Set<string> {
  const dirs = new Set<string>();
  const roots = new Map<string, string | undefined>();
  for (const module of graph.modules.keys()) {
    const dir = dirname(module);
    dirs.add(dir);
    const root = packageRoot(dir, roots);
    if (root !== undefined) dirs.add(root);
  }
  for (let dir = dirname(graph.entry); ; dir = dirname(dir)) {
    if ([...MANIFESTS].some((m) => m !== "package.json" && existsSync(join(dir, m)))) dirs.add(dir);
    if (dirname(dir) === dir) break;
  }
  return dirs;
}

/** The nearest directory at or above `dir` holding a package.json (memoized per directory). */
function packageRoot(dir: string, memo: Map<string, string | undefined>): string | undefined {
  if (memo.has(dir)) return memo.get(dir);
  const parent = dirname(dir);
  const root = existsSync(join(dir, "package.json")) ? dir : parent === dir ? undefined : packageRoot(parent, memo);
  memo.set(dir, root);
  return root;
}
