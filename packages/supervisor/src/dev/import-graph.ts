/**
 * @module The import graph of an app's own source, read with esbuild's parser and resolver: every local
 * module reached from the app module (relative specifiers and workspace packages), and whom each imports.
 * Packages installed under node_modules are leaves: they are not the app's source.
 */
import { dirname, resolve } from "node:path";
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import { type BuildResult, context, type Message, type Plugin } from "esbuild";

/** One module's import of another local module. */
export interface ImportEdge {
  readonly path: string;
  /** Evaluated when the importer is (`import … from`, `export … from`), as opposed to `import()` or `require()`. */
  readonly static: boolean;
}

/** The local modules reached from an entry module, each with the local modules it imports. */
export interface ImportGraph {
  /** The app module the graph starts from (absolute path). */
  readonly entry: string;
  /** Absolute path of every local module → its imports of other local modules. */
  readonly modules: ReadonlyMap<string, readonly ImportEdge[]>;
}

/** Files with a JavaScript or TypeScript loader; anything else imported (`.sql`, `.node`) is a leaf read as empty. */
const SCRIPT = /\.(?:[cm]?[jt]sx?|json)$/;
const BARE = /^[^./]/;

/** Reads an app's import graph again and again; each read parses only the files changed since the last. */
export interface ImportGraphReader {
  read(): Promise<ImportGraph>;
  dispose(): Promise<void>;
}

/**
 * Parses the app module and everything it imports, the way tsx will load it: `.js` specifiers resolve to
 * `.ts` files, `package.json` `exports` are honoured, workspace packages (symlinked into node_modules)
 * resolve to their real source. Type-only imports are erased by the parser, as at run time, so they are
 * no edges. A read throws `FLOTILLA_DEV_SOURCE` when a module does not parse or an import does not resolve.
 */
export async function importGraphReader(entry: string): Promise<ImportGraphReader> {
  const absWorkingDir = dirname(entry);
  // An incremental build: esbuild keeps what it parsed and re-reads only files whose contents changed.
  const builder = await context({
    entryPoints: [entry],
    absWorkingDir,
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "esm",
    logLevel: "silent",
    plugins: [installedPackagesAreLeaves],
  });
  return {
    async read() {
      let result: BuildResult<{ metafile: true }>;
      try {
        result = await builder.rebuild();
      } catch (err) {
        const errors = (err as { errors?: Message[] }).errors ?? [];
        throw FlotillaError.of(FlotillaCodes.DEV_SOURCE, `the app's source does not load: ${describe(errors, err)}`, {
          cause: err,
        });
      }
      const modules = new Map<string, ImportEdge[]>();
      for (const [path, input] of Object.entries(result.metafile.inputs)) {
        const edges = input.imports
          .filter((i) => i.external !== true)
          .map((i) => ({ path: resolve(absWorkingDir, i.path), static: i.kind === "import-statement" }));
        modules.set(resolve(absWorkingDir, path), edges);
      }
      return { entry: resolve(entry), modules };
    },
    dispose: () => builder.dispose(),
  };
}

/** The import graph once (see importGraphReader). */
export async function readImportGraph(entry: string): Promise<ImportGraph> {
  const reader = await importGraphReader(entry);
  try {
    return await reader.read();
  } finally {
    await reader.dispose();
  }
}

/**
 * Every module reached from `from` (itself included), following all imports. Modules in `stopAt` are
 * neither included nor walked through (unless `from` is one of them).
 */
export function reachable(graph: ImportGraph, from: string, stopAt: ReadonlySet<string> = new Set()): Set<string> {
  const seen = new Set<string>([from]);
  const queue = [from];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    for (const edge of graph.modules.get(next) ?? []) {
      if (seen.has(edge.path) || stopAt.has(edge.path)) continue;
      seen.add(edge.path);
      queue.push(edge.path);
    }
  }
  return seen;
}

/** Bare specifiers that resolve under node_modules stay external; workspace packages resolve to their source. */
const installedPackagesAreLeaves: Plugin = {
  name: "flotilla-installed-packages-are-leaves",
  setup(b) {
    b.onResolve({ filter: BARE }, async (args) => {
      if (args.pluginData === installedPackagesAreLeaves) return undefined;
      const found = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: installedPackagesAreLeaves,
      });
      if (found.errors.length > 0) return { errors: found.errors };
      if (found.external || found.path.split(/[\\/]/).includes("node_modules")) {
        return { path: args.path, external: true };
      }
      return { path: found.path };
    });
    // esbuild's filters are Go regular expressions (no lookahead): the test is in JavaScript.
    b.onLoad({ filter: /./ }, (args) => (SCRIPT.test(args.path) ? undefined : { contents: "", loader: "empty" }));
  },
};

function describe(errors: readonly Message[], err: unknown): string {
  const first = errors[0];
  if (first === undefined) return err instanceof Error ? err.message : String(err);
  const where = first.location ? `${first.location.file}:${first.location.line}:${first.location.column + 1}: ` : "";
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
  return `${where}${first.text}${more}`;
}
