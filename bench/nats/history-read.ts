/**
 * Reading speed of `history()`: `npx tsx bench/nats/history-read.ts [events per type]`.
 * Publishes N events each of alpha.Created, alpha.Updated and alpha.Noise (interleaved) to a throwaway
 * nats-server, then reads them back: one type, two types merged, and, for comparison, one consumer on
 * the whole stream filtering client-side (the alternative design), plus raw ordered-consumer reads of one
 * type (fetch or consume, with and without decoding) to show where the time goes.
 */
import { randomUUID } from "node:crypto";
import { Headers } from "@flotilla/core";
import { NatsTransport } from "@flotilla/nats";
import { decodeMessage } from "@flotilla/nats/internal";
import { startNatsServer } from "@flotilla/testing";
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";

const perType = Number(process.argv[2] ?? 20_000);
const types = ["alpha.Created", "alpha.Updated", "alpha.Noise"];

const server = await startNatsServer();
const transport = new NatsTransport({ servers: `127.0.0.1:${server.port}` });
try {
  await transport.connect();
  for (let start = 0; start < perType * types.length; start += 1_000) {
    await Promise.all(
      Array.from({ length: 1_000 }, (_, i) =>
        transport.publish({
          id: randomUUID(),
          type: types[(start + i) % types.length] as string,
          source: "alpha",
          version: 1,
          time: new Date().toISOString(),
          headers: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
          data: { n: start + i, sku: "SKU-12345", quantity: 3, note: "x".repeat(100) },
        }),
      ),
    );
  }

  const time = async (label: string, read: () => Promise<number>) => {
    const started = performance.now();
    const count = await read();
    const ms = performance.now() - started;
    console.log(
      `${label.padEnd(44)} ${String(count).padStart(7)} events ${ms.toFixed(0).padStart(6)} ms  ${Math.round((count / ms) * 1000)} events/s`,
    );
  };
  const viaHistory = (wanted: string[]) => async () => {
    let count = 0;
    for await (const _ of await transport.history(wanted)) count++;
    return count;
  };
  const raw = (mode: "fetch" | "consume" | "fetch-nodecode") => async () => {
    const js = jetstream(transport.connection!);
    const consumer = await js.consumers.get("FLOTILLA_EVT_ALPHA", {
      filter_subjects: "flotilla.evt.alpha.Created",
      deliver_policy: DeliverPolicy.All,
    });
    let remaining = (await consumer.info(true)).num_pending;
    let count = 0;
    if (mode === "consume") {
      const messages = await consumer.consume({ max_messages: 512 });
      for await (const msg of messages) {
        decodeMessage(msg);
        count++;
        if (msg.info.pending === 0) break;
      }
    } else {
      while (remaining > 0) {
        const batch = await consumer.fetch({ max_messages: Math.min(remaining, 512), expires: 5_000 });
        for await (const msg of batch) {
          remaining = Math.min(remaining - 1, msg.info.pending);
          if (mode === "fetch") decodeMessage(msg);
          count++;
          if (remaining <= 0) break;
        }
      }
    }
    await consumer.delete();
    return count;
  };
  for (let round = 1; round <= 2; round++) {
    console.log(`round ${round}`);
    await time("raw: 1 type, fetch + decode", raw("fetch"));
    await time("raw: 1 type, fetch, no decode", raw("fetch-nodecode"));
    await time("raw: 1 type, consume + decode", raw("consume"));
    await time("history: 1 type (ordered consumer)", viaHistory(["alpha.Created"]));
    await time("history: 2 types of one stream (merged)", viaHistory(["alpha.Created", "alpha.Updated"]));
    await time("alternative: whole stream, client-side filter", async () => {
      const wanted = new Set(["flotilla.evt.alpha.Created", "flotilla.evt.alpha.Updated"]);
      const js = jetstream(transport.connection!);
      const consumer = await js.consumers.get("FLOTILLA_EVT_ALPHA", {
        filter_subjects: "flotilla.evt.alpha.>",
        deliver_policy: DeliverPolicy.All,
      });
      let remaining = (await consumer.info(true)).num_pending;
      let count = 0;
      while (remaining > 0) {
        const batch = await consumer.fetch({ max_messages: Math.min(remaining, 512), expires: 5_000 });
        for await (const msg of batch) {
          remaining = Math.min(remaining - 1, msg.info.pending);
          if (wanted.has(msg.subject) && !msg.headers?.get(Headers.retryGroup)) {
            decodeMessage(msg);
            count++;
          }
          if (remaining <= 0) break;
        }
      }
      await consumer.delete();
      return count;
    });
  }
} finally {
  await transport.close();
  await server.stop();
}
