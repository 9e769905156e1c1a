/**
 * @module Watches the directories an app's source lives in, one `fs.watch` per directory, and reports
 * each burst of changes once it has been quiet for a moment (editors write a file several times, or
 * write a temporary file and rename it over the original).
 *
 * Directories, not files: a file replaced by a rename is a new inode, which a watch on the old file no
 * longer sees. Not `recursive: true` either: it would walk and watch every directory under the root,
 * node_modules included, when only the graph's directories matter.
 */
import { type FSWatcher, watch } from "node:fs";
import { join, sep } from "node:path";

/** Path segments whose changes are never source changes. */
const IGNORED = new Set(["node_modules", ".git", ".flotilla"]);

export interface SourceWatcherOptions {
  /** Called with the absolute paths changed in one burst, after `debounceMs` without a change. */
  readonly onChange: (paths: string[]) => void;
  /** Quiet time closing a burst (default 100 ms). */
  readonly debounceMs?: number;
  /** A directory that cannot be watched (removed meanwhile, no permission): reported, then left out. */
  readonly onError?: (dir: string, err: Error) => void;
}

/** A set of watched directories, changed as the import graph changes. */
export class SourceWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: SourceWatcherOptions) {}

  /** Watches exactly these directories: new ones are added, ones no longer listed are closed. */
  watch(dirs: Iterable<string>): void {
    if (this.closed) return;
    const wanted = new Set([...dirs].filter((d) => !d.split(sep).some((part) => IGNORED.has(part))));
    for (const [dir, watcher] of this.watchers) {
      if (wanted.has(dir)) continue;
      watcher.close();
      this.watchers.delete(dir);
    }
    for (const dir of wanted) {
      if (this.watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, { persistent: false }, (_event, name) => this.changed(dir, name));
        watcher.on("error", (err) => this.failed(dir, err));
        this.watchers.set(dir, watcher);
      } catch (err) {
        this.options.onError?.(dir, err as Error);
      }
    }
  }

  /** The directories watched now. */
  directories(): string[] {
    return [...this.watchers.keys()];
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    this.pending.clear();
  }

  private changed(dir: string, name: string | Buffer | null): void {
    // Linux always names the entry; without a name the whole directory is reported.
    const path = name === null ? dir : join(dir, name.toString());
    if (this.closed || IGNORED.has(name?.toString() ?? "")) return;
    this.pending.add(path);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.options.debounceMs ?? 100);
  }

  private flush(): void {
    const paths = [...this.pending];
    this.pending.clear();
    if (paths.length > 0 && !this.closed) this.options.onChange(paths);
  }

  private failed(dir: string, err: Error): void {
    this.watchers.get(dir)?.close();
    this.watchers.delete(dir);
    this.options.onError?.(dir, err);
  }
}
