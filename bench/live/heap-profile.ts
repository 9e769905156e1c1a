/** @module Summarizes a V8 sampling heap profile: the bytes still alive, by allocating function and by file. */
import { readFileSync } from "node:fs";

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

export interface HeapRow {
  name: string;
  bytes: number;
}

export interface HeapSummary {
  totalBytes: number;
  /** By the function that allocated. */
  functions: HeapRow[];
  /** By the innermost frame of a file of Flotilla's (packages/, bench/): which of its code made the object. */
  flotilla: HeapRow[];
}

export function summarizeHeap(file: string): HeapSummary {
  const { head } = JSON.parse(readFileSync(file, "utf8")) as { head: HeapNode };
  const functions = new Map<string, number>();
  const flotilla = new Map<string, number>();
  let totalBytes = 0;
  const walk = (node: HeapNode, stack: HeapNode[]) => {
    const path = [...stack, node];
    if (node.selfSize > 0) {
      totalBytes += node.selfSize;
      add(functions, keyOf(node), node.selfSize);
      const own = path.findLast(
        (n) => /\/(packages|bench)\//.test(n.callFrame.url) && !n.callFrame.url.includes("node_modules"),
      );
      add(flotilla, own === undefined ? "(no Flotilla frame)" : keyOf(own), node.selfSize);
    }
    for (const child of node.children) walk(child, path);
  };
  walk(head, []);
  return { totalBytes, functions: rows(functions), flotilla: rows(flotilla) };
}

function keyOf(node: HeapNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const i = url.indexOf("/node_modules/");
  const p = url.search(/\/(packages|bench)\//);
  const where =
    url === "" ? "" : i >= 0 ? url.slice(i + 14) : p >= 0 ? url.slice(p + 1) : url.replace(/^file:\/\//, "");
  return `${functionName || "(anonymous)"} ${where}${url === "" ? "" : `:${lineNumber + 1}`}`;
}

function rows(map: Map<string, number>): HeapRow[] {
  return [...map].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

function add(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}
