/**
 * @module The gRPC benchmark: the same action (the shop's `catalog.getProduct`) through one gateway over
 * HTTP (autocannon, GET /api/v1/products/:id) and over gRPC (@grpc/grpc-js clients, `GetProduct`), at the
 * same concurrency, one after the other against the same embedded shop; load from outside the server's
 * process in both cases. A bare grpc-js server with a fixed answer, under the same load, is the floor.
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
  protocol: "HTTP/1.1 + JSON" | "gRPC (HTTP/2 + protobuf)" | "bare grpc-js server, fixed answer";
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
    const grpc = await grpcLoad(ready.grpc, o, join(dir, "load.log"));
    log("bare grpc-js server, the same load");
    const bare = startWorker("bare gRPC", "../grpc/bare-grpc-worker.ts", [], { logFile: join(dir, "bare.log") });
    let floor: GrpcLoad;
    try {
      floor = await grpcLoad(((await bare.ready) as { grpc: string }).grpc, o, join(dir, "load-bare.log"));
    } finally {
      await bare.stop();
    }
    return [
      {
        protocol: "HTTP/1.1 + JSON",
        reqPerSec: http.reqPerSec,
        p50Ms: http.p50Ms,
        p99Ms: http.p99Ms,
        errors: http.errors + http.non2xx + http.timeouts,
      },
      { protocol: "gRPC (HTTP/2 + protobuf)", ...grpc },
      { protocol: "bare grpc-js server, fixed answer", ...floor },
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

type GrpcLoad = Omit<ProtocolResult, "protocol">;

/** Runs the gRPC load worker against `target` and returns its measured run. */
async function grpcLoad(target: string, o: GrpcBenchOptions, logFile: string): Promise<GrpcLoad> {
  const loader = startWorker(
    "gRPC load",
    "../grpc/grpc-load-worker.ts",
    [
      ...["--target", target, "--path", "/flotilla.shop.v1.CatalogService/GetProduct", "--id", PRODUCT],
      ...["--concurrency", String(o.concurrency), "--warmup", String(o.warmupSec), "--duration", String(o.durationSec)],
    ],
    { logFile },
  );
  try {
    const { reqPerSec, p50Ms, p99Ms, errors } = (await loader.ready) as unknown as GrpcLoad;
    return { reqPerSec, p50Ms, p99Ms, errors };
  } finally {
    await loader.stop();
  }
}
