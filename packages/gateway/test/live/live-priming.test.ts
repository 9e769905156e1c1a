/**
 * A gateway that starts after events were emitted fills its replay buffer from the transport's
 * history: a caller who was connected elsewhere resumes on it and gets what it missed, in order, once.
 * The same scenario over the embedded journal (two transports on one SQLite file) and over NATS JetStream.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  action,
  createHost,
  defineContract,
  defineService,
  EVERYONE,
  event,
  type Host,
  MemoryTransport,
  type Transport,
} from "@flotilla/core";
import { openEventJournal, sqliteEventJournal } from "@flotilla/data";
import { NatsTransport } from "@flotilla/nats";
import { type NatsServerHandle, startNatsServer, waitFor } from "@flotilla/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createGateway, type Policy } from "../../src/index.js";

const feed = defineContract({
  service: "feed",
  actions: {
    post: action({ input: z.object({ user: z.string(), texts: z.array(z.string()) }), output: z.undefined() }),
    announce: action({ input: z.object({ text: z.string() }), output: z.undefined() }),
  },
  events: {
    Posted: event({ schema: z.object({ user: z.string(), text: z.string() }), audience: (p) => p.user }),
    Announced: event({ schema: z.object({ text: z.string() }), audience: () => EVERYONE }),
  },
});
const feedService = defineService(feed, {
  actions: {
    async post({ user, texts }, ctx) {
      for (const text of texts) await ctx.emit(feed.Posted, { user, text });
    },
    async announce({ text }, ctx) {
      await ctx.emit(feed.Announced, { text });
    },
  },
});

const userHeader: Policy = {
  name: "user-header",
  onRequest(exchange) {
    const user = exchange.request.headers["x-user"];
    if (typeof user === "string") exchange.caller = { subject: user, roles: [] };
  },
};

interface Received {
  readonly id: string;
  readonly event: string;
  readonly data: { readonly data?: { readonly text?: string } };
}

/** An SSE reader over fetch: the messages so far, and a way to stop. */
function listen(url: string, user: string, lastEventId?: string) {
  const messages: Received[] = [];
  const controller = new AbortController();
  const headers: Record<string, string> = { "x-user": user, accept: "text/event-stream" };
  if (lastEventId !== undefined) headers["last-event-id"] = lastEventId;
  const done = (async () => {
    const res = await fetch(`${url}/live`, { headers, signal: controller.signal });
    if (res.body === null) throw new Error(`no stream: ${res.status}`);
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of res.body) {
      text += decoder.decode(chunk, { stream: true });
      for (let end = text.indexOf("\n\n"); end !== -1; end = text.indexOf("\n\n")) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const field = (name: string) =>
          block
            .split("\n")
            .find((l) => l.startsWith(`${name}:`))
            ?.slice(name.length + 1)
            .trim();
        const data = field("data");
        if (data === undefined) continue; // a comment (heartbeat) or the retry hint
        messages.push({
          id: field("id") ?? "",
          event: field("event") ?? "message",
          data: data ? JSON.parse(data) : {},
        });
      }
    }
  })().catch(() => undefined);
  return {
    messages,
    texts: () => messages.filter((m) => m.event !== "ready").map((m) => m.data.data?.text),
    ready: () => messages.find((m) => m.event === "ready")?.id,
    async close() {
      controller.abort();
      await done;
    },
  };
}

interface Network {
  readonly name: string;
  setUp(): Promise<void>;
  /** A new transport on the same network (the same journal file or the same NATS server). */
  transport(): Transport;
  tearDown(): Promise<void>;
}

const embedded = (): Network => {
  let dir = "";
  let first = true;
  return {
    name: "embedded journal",
    async setUp() {
      dir = mkdtempSync(join(tmpdir(), "flotilla-priming-"));
    },
    transport() {
      const file = join(dir, "events.sqlite");
      const journal = first ? sqliteEventJournal(file) : openEventJournal(file);
      first = false;
      return new MemoryTransport({ journal });
    },
    async tearDown() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

const jetstream = (): Network => {
  let nats: NatsServerHandle;
  return {
    name: "NATS JetStream",
    async setUp() {
      nats = await startNatsServer();
    },
    transport: () => new NatsTransport({ servers: nats.url }),
    async tearDown() {
      await nats?.stop();
    },
  };
};

for (const network of [embedded(), jetstream()]) {
  describe(`live replay buffer primed from history (${network.name})`, () => {
    const running: Generation[] = [];
    beforeAll(() => network.setUp(), 30_000);
    afterAll(async () => {
      for (const generation of running) await generation.stop();
      await network.tearDown();
    });

    /**
     * The app's services and its gateway on one new transport of the network: embedded, an app started
     * again on the same data (the journal file); over NATS, the same again, or a second gateway.
     */
    async function generation(options: { primeTimeoutMs?: number; during?: (services: Host) => Promise<void> } = {}) {
      const transport = network.transport();
      await transport.connect();
      const services = createHost({ services: [feedService], transport });
      await services.start();
      const host = createHost({ services: [], transport });
      await host.start();
      const gateway = createGateway({
        host,
        routes: [],
        policies: [userHeader],
        accessLog: false,
        live: { path: "/live", events: [feed.Posted, feed.Announced], heartbeatMs: 1_000, ...options },
      });
      const [url] = await Promise.all([gateway.listen(), options.during?.(services)]);
      let stopped = false;
      const generation: Generation = {
        url,
        services,
        async stop() {
          if (stopped) return;
          stopped = true;
          await gateway.close();
          await host.stop();
          await services.stop();
          await transport.close();
        },
      };
      running.push(generation);
      return generation;
    }

    it("a caller resumes on a gateway started after its events: the missed ones come, then live", async () => {
      const first = await generation();
      const before = listen(first.url, "ann");
      await waitFor(() => before.ready() !== undefined, { what: "ready on the first gateway" });
      await first.services.call(feed.post, { user: "ann", texts: ["seen"] });
      await waitFor(() => before.texts().includes("seen"), { what: "the first post, live" });
      const position = (before.messages.at(-1) as Received).id;
      await before.close();

      await first.services.call(feed.post, { user: "ann", texts: ["missed-1", "missed-2"] });
      await first.services.call(feed.post, { user: "bob", texts: ["not ann's"] });
      await first.services.call(feed.announce, { text: "for everyone" });
      await first.services.call(feed.post, { user: "ann", texts: ["missed-3"] });
      await first.stop();

      const second = await generation();
      const resumed = listen(second.url, "ann", position);
      await waitFor(() => resumed.ready() !== undefined, { what: "ready on the second gateway" });
      expect(resumed.texts()).toEqual(["missed-1", "missed-2", "for everyone", "missed-3"]);
      await second.services.call(feed.post, { user: "ann", texts: ["live again"] });
      await waitFor(() => resumed.texts().includes("live again"), { what: "live after the replay" });
      expect(resumed.texts()).toEqual(["missed-1", "missed-2", "for everyone", "missed-3", "live again"]);
      await resumed.close();
      await second.stop();
    }, 30_000);

    it("events emitted while a gateway primes come once each, in order, after the primed ones", async () => {
      const first = await generation();
      const before = listen(first.url, "cat");
      await waitFor(() => before.ready() !== undefined, { what: "ready" });
      const position = before.ready() as string;
      await before.close();
      const texts = Array.from({ length: 40 }, (_, i) => `n${i}`);
      // Half before the gateway starts again, half while it primes.
      await first.services.call(feed.post, { user: "cat", texts: texts.slice(0, 20) });
      await first.stop();
      const second = await generation({
        async during(services) {
          for (const text of texts.slice(20)) await services.call(feed.post, { user: "cat", texts: [text] });
        },
      });
      const resumed = listen(second.url, "cat", position);
      await waitFor(() => resumed.texts().length >= texts.length, { what: "every post" });
      await new Promise((resolve) => setTimeout(resolve, 200)); // a repeat would arrive by now
      expect(resumed.texts()).toEqual(texts);
      await resumed.close();
      await second.stop();
    }, 30_000);

    it("priming that runs out of time leaves the gateway serving what it sees from then on", async () => {
      const late = await generation({ primeTimeoutMs: 1 });
      const client = listen(late.url, "dan");
      await waitFor(() => client.ready() !== undefined, { what: "ready" });
      await late.services.call(feed.post, { user: "dan", texts: ["after start"] });
      await waitFor(() => client.texts().includes("after start"), { what: "a live post" });
      await client.close();
      await late.stop();
    }, 30_000);
  });
}

interface Generation {
  readonly url: string;
  readonly services: Host;
  stop(): Promise<void>;
}
