/** @module Summarizes a V8 .cpuprofile: self and inclusive share of samples per function and per file. */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  /** Microseconds between consecutive samples (the first is relative to `startTime`). */
  timeDeltas: number[];
}

export interface Row {
  name: string;
  selfPct: number;
  totalPct: number;
}

export interface Summary {
  samples: number;
  functions: Row[];
  files: Row[];
}

/**
 * Samples in the first `skipMs` (start-up, module loading, warm-up) are left out, and so are idle
 * samples: the shares are of the time the process was busy measuring.
 */
export function summarize(profile: Profile, skipMs = 0): Summary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfCount = new Map<number, number>();
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    const id = profile.samples[i] as number;
    if (at < skipMs * 1000 || byId.get(id)?.callFrame.functionName === "(idle)") continue;
    selfCount.set(id, (selfCount.get(id) ?? 0) + 1);
  }

  const fnSelf = new Map<string, number>();
  const fnTotal = new Map<string, number>();
  const fileSelf = new Map<string, number>();
  const fileTotal = new Map<string, number>();
  let total = 0;
  for (const [id, count] of selfCount) {
    const stack: ProfileNode[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      stack.push(byId.get(cur) as ProfileNode);
    }
    total += count;
    const leaf = stack[0] as ProfileNode;
    add(fnSelf, fnKey(leaf), count);
    add(fileSelf, fileKey(leaf), count);
    for (const key of new Set(stack.map(fnKey))) add(fnTotal, key, count);
    for (const key of new Set(stack.map(fileKey))) add(fileTotal, key, count);
  }
  const rows = (self: Map<string, number>, incl: Map<string, number>): Row[] =>
    [...incl.keys()]
      .map((name) => ({ name, selfPct: pct(self.get(name), total), totalPct: pct(incl.get(name), total) }))
      .sort((a, b) => b.selfPct - a.selfPct || b.totalPct - a.totalPct);
  return { samples: total, functions: rows(fnSelf, fnTotal), files: rows(fileSelf, fileTotal) };
}

function fnKey(n: ProfileNode): string {
  const f = n.callFrame;
  return `${f.functionName || "(anonymous)"} ${fileKey(n)}:${f.lineNumber + 1}`;
}

function fileKey(n: ProfileNode): string {
  const url = n.callFrame.url;
  if (url === "") return `(${n.callFrame.functionName || "native"})`;
  const i = url.indexOf("/node_modules/");
  if (i >= 0) return url.slice(i + "/node_modules/".length);
  const p = url.indexOf("/packages/");
  if (p >= 0) return url.slice(p + 1);
  return url.replace(/^file:\/\//, "");
}

function add(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

function pct(n: number | undefined, total: number): number {
  return total === 0 ? 0 : (100 * (n ?? 0)) / total;
}
