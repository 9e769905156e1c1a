/**
 * @module How well the gateway cache's byte estimate tracks the heap: fills a 64 MiB cache far past its
 * bound with answers of about N characters, then compares the bytes it counts with the heap's growth.
 *
 * `node --expose-gc --import tsx bench/cache/memory.ts 2000`
 */
import { ResponseCache } from "../../packages/gateway/src/cache/response-cache.js";

const approxChars = Number(process.argv[2] ?? 2000);
const maxBytes = 64 * 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc");
const cache = new ResponseCache({ maxBytes, maxEntryBytes: 1024 * 1024, metrics: undefined });
const answer = (i: number) => ({
  id: `p${i}`,
  name: `Product ${i}`,
  items: Array.from({ length: Math.ceil(approxChars / 40) }, (_, j) => ({ j, v: "x".repeat(20) })),
});
gc();
const before = process.memoryUsage().heapUsed;
for (let i = 0; i < 200_000; i++) {
  const key = JSON.stringify(["GET", "/api/v1/products/:id", { id: `p${i}` }]);
  await cache.fetch(key, async () => answer(i), {
    ttlMs: 60_000,
    store: true,
    tags: (o) => [`product:${(o as { id: string }).id}`],
  });
}
gc();
const grown = process.memoryUsage().heapUsed - before;
const mib = (n: number) => +(n / 2 ** 20).toFixed(1);
console.log(
  JSON.stringify({ approxChars, entries: cache.entries, countedMiB: mib(cache.bytes), heapGrowthMiB: mib(grown) }),
);
