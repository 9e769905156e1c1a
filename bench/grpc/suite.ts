/**
 * @module The gRPC benchmark: the same action (the shop's `catalog.getProduct`) through one gateway over
 * HTTP (autocannon, GET /api/v1/products/:id) and over gRPC (@grpc/grpc-js clients, `GetProduct`), at the
 * same concurrency, one after the other against the same embedded shop; load from outside the server's
 * process in both cases.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load } from "../edge/load.js";
import { startWorker } from "../edge/processes.js";
import { ratio, table } from "../lib/report.js";

export interface GrpcBenchOptions {
  concurrency: number;
  warmupSec: number;
  durationSec: number;
  rateLimit: string;
}

export interface ProtocolResult {
  protocol: "HTTP/1.1 + JSON" | "gRPC (HTTP/2 + protobuf)";
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

const PRODUCT = "prod-french-press";

export async function runGrpcSuite(o: GrpcBenchOptions, log: (line: string) => void): Promise<ProtocolResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-bench-grpc-"));
  const server = startWorker("shop (HTTP + gRPC)", "../grpc/shop-grpc-worker.ts", ["--data-dir", join(dir, "data")], {
    logFile: join(dir, "shop.log"),
    env: { FLOTILLA_RATE_LIMIT: o.rateLimit, FLOTILLA_LOG_LEVEL: "warn" },
  });
  try {
    const ready = (await server.ready) as { url: string; grpc: string };
    log(`HTTP: autocannon, ${o.concurrency} connections, ${o.durationSec} s`);
    const http = await load({
      url: `${ready.url}/api/v1/products/${PRODUCT}`,
      headers: {},
      connections: o.concurrency,
      warmupSec: o.warmupSec,
      durationSec: o.durationSec,
    });
    log(`gRPC: ${o.concurrency} calls in flight, ${o.durationSec} s`);
    const loader = startWorker(
      "gRPC load",
      "../grpc/grpc-load-worker.ts",
      [
        "--target",
        ready.grpc,
        "--path",
        "/flotilla.shop.v1.CatalogService/GetProduct",
        "--id",
        PRODUCT,
        "--concurrency",
        String(o.concurrency),
        "--warmup",
        String(o.warmupSec),
        "--duration",
        String(o.durationSec),
      ],
      { logFile: join(dir, "load.log") },
    );
    const grpc = (await loader.ready) as unknown as { reqPerSec: number; p50Ms: number; p99Ms: number; errors: number };
    await loader.stop();
    return [
      {
        protocol: "HTTP/1.1 + JSON",
        reqPerSec: http.reqPerSec,
        p50Ms: http.p50Ms,
        p99Ms: http.p99Ms,
        errors: http.errors + http.non2xx + http.timeouts,
      },
      {
        protocol: "gRPC (HTTP/2 + protobuf)",
        reqPerSec: grpc.reqPerSec,
        p50Ms: grpc.p50Ms,
        p99Ms: grpc.p99Ms,
        errors: grpc.errors,
      },
    ];
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function renderGrpc(results: readonly ProtocolResult[]): string {
  const http = results[0];
  return table(
    ["protocol", "req/s", "× HTTP", "p50 ms", "p99 ms", "p99 × HTTP", "errors"],
    results.map((r) => [
      r.protocol,
      r.reqPerSec.toFixed(0),
      ratio(r.reqPerSec, http?.reqPerSec),
      r.p50Ms.toFixed(2),
      r.p99Ms.toFixed(2),
      ratio(r.p99Ms, http?.p99Ms),
      String(r.errors),
    ]),
  );
}
