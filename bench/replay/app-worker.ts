/**
 * @module The replay benchmark's sides that run the shop or the CLI:
 *
 * - `fill`: a fresh data directory gets an event journal with `--events` OrderPlaced events of the
 *   shop (one line each), written before the app ever ran (so no consumer group has them pending),
 *   then the shop runs once to create and seed its databases.
 * - `cli`: `flotilla replay catalog.sales` (the command's own function, in this process); prints
 *   `{ events, seconds, cpuUs }`.
 * - `app`: the shop (`runApp`, as `npm start` runs it, without the gateway), placing orders open loop
 *   at `--rate` per second between `{"go":true}` and `{"stop":…}`, then checking that the projection
 *   counts every OrderPlaced of the journal exactly once.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { runApp } from "@flotilla/app";
import { eventJournalFile, sqliteEventJournal } from "@flotilla/data";
import Database from "better-sqlite3";
import { shopApp } from "../../examples/shop/src/app.js";
import { demoProducts } from "../../examples/shop/src/services/catalog/seed.js";
import { orders } from "../../examples/shop/src/services/orders/contract.js";
import { replay } from "../../packages/cli/src/commands/replay.js";
import { dataDir, measured, quiet, send, TYPE, values } from "./common.js";

const SHOP_APP = "examples/shop/src/app.ts";
/** CLOCK_MONOTONIC in ns: one clock for every process of the machine. */
const now = (): number => Number(process.hrtime.bigint());

if (values.role === "fill") await fill(Number(values.events));
else if (values.role === "cli") await measured(() => cli());
else if (values.role === "app") await app(Number(values.rate));
else throw new Error(`unknown role ${values.role}`);
process.exit(0);

async function fill(count: number): Promise<void> {
  const t0 = performance.now();
  // The journal's own schema, then its table written directly, in one transaction (appending event by
  // event would commit 100k times). No consumer group is remembered yet, so none gets pending entries.
  sqliteEventJournal(eventJournalFile(dataDir)).close();
  const journal = new Database(eventJournalFile(dataDir));
  const insert = journal.prepare(
    "insert into flotilla_events (msg_id, type, retry_group, stored_at, envelope) values (?, ?, null, ?, ?)",
  );
  const time = new Date().toISOString();
  journal.transaction(() => {
    for (let i = 0; i < count; i++) {
      const product = demoProducts[i % demoProducts.length] as (typeof demoProducts)[number];
      const quantity = 1 + (i % 3);
      const id = randomUUID();
      const envelope = {
        id,
        type: TYPE,
        source: "orders",
        version: 1,
        time,
        headers: {},
        data: {
          orderId: randomUUID(),
          customerId: null,
          items: [{ productId: product.id, quantity, name: product.name, unitPrice: product.price }],
          total: product.price * quantity,
          currency: product.currency,
        },
      };
      insert.run(id, TYPE, Date.now(), JSON.stringify(envelope));
    }
  })();
  journal.close();
  const running = await runApp(shopApp, { dataDir, logger: quiet() });
  await running.stop();
  send({ filled: count, seconds: (performance.now() - t0) / 1000 });
}

async function cli(): Promise<number> {
  const log = console.log;
  let summary = "";
  console.log = (line: string) => {
    summary += line;
  };
  // The command's progress lines (stderr) would bury the suite's.
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) =>
    typeof chunk === "string" && /^(catalog\.sales|rebuilding catalog\.sales)/.test(chunk)
      ? true
      : write(chunk, ...rest)) as typeof process.stderr.write;
  try {
    const args = ["catalog.sales", "--app", SHOP_APP, "--data-dir", dataDir];
    if (values.batch !== undefined) args.push("--batch", values.batch);
    await replay(args);
  } finally {
    console.log = log;
    process.stderr.write = write;
  }
  const m = /: ([\d,]+) events? read/.exec(summary);
  if (m === null) throw new Error(`no summary: ${summary}`);
  return Number((m[1] as string).replaceAll(",", ""));
}

async function app(rate: number): Promise<void> {
  const running = await runApp(shopApp, { dataDir, logger: quiet() });
  const started: number[] = [];
  const took: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let stopping = false;
  let loop: Promise<void> | undefined;
  // In process, a caller is handed over as it is (no proof needed): the orders service takes signed-in orders only.
  const caller = { subject: "user-demo", roles: ["customer"] };
  const place = async (i: number) => {
    const product = demoProducts[i % demoProducts.length] as (typeof demoProducts)[number];
    const t = now();
    try {
      await running.host.call(
        orders.createOrder,
        {
          items: [{ productId: product.id, quantity: 1 }],
          payment: { card: "4242424242424242" },
          shipping: { name: "Ada", street: "1 Main St", city: "Oslo", country: "NO" },
        },
        { caller },
      );
      started.push(t);
      took.push(now() - t);
    } catch (err) {
      errors++;
      firstError ??= err instanceof Error ? err.message : String(err);
    }
  };
  send({ ready: true });
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const msg = JSON.parse(line) as { go?: boolean; stop?: { fromNs: number; toNs: number } };
    if (msg.go) {
      loop = (async () => {
        const interval = 1e9 / rate;
        const start = now();
        const inFlight = new Set<Promise<void>>();
        for (let i = 0; !stopping; i++) {
          const due = start + i * interval;
          const wait = (due - now()) / 1e6;
          if (wait >= 1) await new Promise((resolve) => setTimeout(resolve, Math.floor(wait)));
          const p = place(i).finally(() => inFlight.delete(p));
          inFlight.add(p);
        }
        await Promise.all(inFlight);
      })();
    } else if (msg.stop) {
      stopping = true;
      await loop;
      const { fromNs, toNs } = msg.stop;
      const window: number[] = [];
      for (let i = 0; i < started.length; i++) {
        const t = started[i] as number;
        if (t >= fromNs && t <= toNs) window.push(took[i] as number);
      }
      window.sort((a, b) => a - b);
      const pct = (p: number) => (window[Math.min(window.length - 1, Math.floor(window.length * p))] ?? 0) / 1e6;
      const check = await settle();
      send({
        calls: window.length,
        seconds: (toNs - fromNs) / 1e9,
        p50Ms: pct(0.5),
        p99Ms: pct(0.99),
        maxMs: (window.at(-1) ?? 0) / 1e6,
        errors,
        firstError,
        ...check,
      });
      break;
    }
  }
  await running.stop();
}

/** Waits until the live projection counts every OrderPlaced the journal holds: exactly once each. */
async function settle(): Promise<{ exact: boolean; counted: number; expected: number }> {
  const journal = new Database(eventJournalFile(dataDir), { readonly: true });
  const db = new Database(join(dataDir, "catalog.sqlite"), { readonly: true });
  const expected = () =>
    (journal.prepare("select count(*) from flotilla_events where type = ?").pluck().get(TYPE) as number) ?? 0;
  const counted = () =>
    Number(db.prepare("select coalesce(sum(orders), 0) from product_sales").pluck().get() as number);
  const state = () =>
    db.prepare("select status from flotilla_projections where name = 'sales'").pluck().get() as string | undefined;
  const deadline = performance.now() + 30_000;
  let c = counted();
  let e = expected();
  while (performance.now() < deadline && (c !== e || state() !== "live")) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    c = counted();
    e = expected();
  }
  const live = state() === "live";
  journal.close();
  db.close();
  return { exact: c === e && live, counted: c, expected: e };
}
