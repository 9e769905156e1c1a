/**
 * @module The gRPC benchmark's load, in a process of its own: `--concurrency` calls in flight from
 * @grpc/grpc-js clients (one channel per ten calls), each starting the next as it ends, for a warm-up and
 * then a measured run; reports calls per second and the p50/p99 of every call's own time over IPC.
 * The request is encoded once (bytes in, bytes out), so the client spends no time on protobuf.
 */
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";

const { values } = parseArgs({
  options: {
    target: { type: "string" },
    path: { type: "string" },
    id: { type: "string" },
    concurrency: { type: "string", default: "50" },
    warmup: { type: "string", default: "2" },
    duration: { type: "string", default: "10" },
  },
});

const concurrency = Number(values.concurrency);
// GetProductRequest { string id = 1; }: the shop's committed field number.
const Request = new protobuf.Type("GetProductRequest").add(new protobuf.Field("id", 1, "string"));
const request = Buffer.from(Request.encode({ id: values.id }).finish());
const Raw = grpc.makeGenericClientConstructor({}, "raw");
const channels = Array.from(
  { length: Math.ceil(concurrency / 10) },
  () => new Raw(values.target as string, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 }),
);
const pass = (b: Buffer) => b;

interface Run {
  calls: number;
  errors: number;
  times: number[];
  seconds: number;
}

function run(seconds: number): Promise<Run> {
  const until = performance.now() + seconds * 1000;
  const result: Run = { calls: 0, errors: 0, times: [], seconds };
  const started = performance.now();
  const loop = (client: grpc.Client): Promise<void> =>
    new Promise((resolve) => {
      const next = () => {
        if (performance.now() >= until) {
          resolve();
          return;
        }
        const t0 = performance.now();
        client.makeUnaryRequest(values.path as string, pass, pass, request, (err) => {
          result.times.push(performance.now() - t0);
          if (err === null) result.calls++;
          else result.errors++;
          next();
        });
      };
      next();
    });
  return Promise.all(Array.from({ length: concurrency }, (_, i) => loop(channels[i % channels.length]!))).then(() => {
    result.seconds = (performance.now() - started) / 1000;
    return result;
  });
}

await run(Number(values.warmup));
const measured = await run(Number(values.duration));
const sorted = Float64Array.from(measured.times).sort();
const pct = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
process.send?.({
  ready: true,
  reqPerSec: measured.calls / measured.seconds,
  calls: measured.calls,
  errors: measured.errors,
  p50Ms: pct(0.5),
  p99Ms: pct(0.99),
  seconds: measured.seconds,
});
for (const c of channels) c.close();
process.once("disconnect", () => process.exit(0));
