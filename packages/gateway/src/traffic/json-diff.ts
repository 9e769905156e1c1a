/** @module Deep comparison of two JSON values, key order ignored: the paths where they differ. */

/** At most this many differing paths are listed per comparison. */
const MAX_PATHS = 20;

/**
 * The dot paths (`items.0.price`) where `a` and `b` differ, skipping `ignore` patterns (`*` matches one
 * key or index). Empty when equal. Objects compare by key set and values; arrays by length and order.
 */
export function jsonDifferences(a: unknown, b: unknown, ignore: readonly string[] = []): string[] {
  const patterns = ignore.map((p) => p.split("."));
  const out: string[] = [];
  walk(a, b, [], patterns, out);
  return out;
}

function walk(a: unknown, b: unknown, path: string[], ignore: readonly string[][], out: string[]): void {
  if (out.length >= MAX_PATHS || ignored(path, ignore)) return;
  if (a === b) return;
  const here = path.join(".") || "$";
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) {
      out.push(here);
      return;
    }
    for (let i = 0; i < a.length; i++) walk(a[i], b[i], [...path, String(i)], ignore, out);
    return;
  }
  if (isObject(a) && isObject(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (!(key in a) || !(key in b)) {
        if (!ignored([...path, key], ignore)) out.push([...path, key].join("."));
        continue;
      }
      walk(a[key], b[key], [...path, key], ignore, out);
    }
    return;
  }
  out.push(here);
}

function ignored(path: readonly string[], ignore: readonly string[][]): boolean {
  return ignore.some((p) => p.length === path.length && p.every((part, i) => part === "*" || part === path[i]));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
