/** The dashboard's event stream over a real HTTP server: one read per tick for all clients, failed reads skipped, push topics started and stopped with their clients. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { waitFor } from "@flotilla/testing";
import { afterEach, describe, expect, it } from "vitest";
import { FeedHub } from "../src/feed-hub.js";
import type { Topic } from "../src/panel.js";

/** Follows a stream with fetch, keeping the data of its `event` events (numbers); `stop()` ends it. */
function follow(url: string, event = "tick") {
  const pattern = new RegExp(`^event: ${event}\\ndata: (\\d+)$`, "m");
  const stop = new AbortController();
  const seen: number[] = [];
  const done = (async () => {
    const res = await fetch(url, { signal: stop.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done: ended } = await reader.read();
      if (ended) return;
      buffer += value;
      for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
        const data = pattern.exec(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (data?.[1] !== undefined) seen.push(Number(data[1]));
      }
    }
  })().catch((err: unknown) => {
    if (!stop.signal.aborted) throw err;
  });
  return { seen, done, stop: () => stop.abort() };
}

describe("FeedHub", () => {
  let server: Server | undefined;
  let feed: FeedHub | undefined;
  afterEach(async () => {
    feed?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  async function serve(read: () => Promise<unknown>, errors: unknown[] = [], more: Topic[] = []): Promise<string> {
    feed = new FeedHub((_topic, err) => errors.push(err));
    feed.add({ name: "tick", everyMs: 20, read });
    for (const topic of more) feed.add(topic);
    const current = feed;
    server = createServer((req, res) => {
      const topics = new URL(req.url ?? "/", "http://x").searchParams.get("topics") ?? "tick";
      current.open(res, {}, topics.split(","));
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  it("reads the source once per tick, whatever the number of clients, and stops when the last leaves", async () => {
    let reads = 0;
    const url = await serve(async () => ++reads);
    const clients = [follow(url), follow(url), follow(url)];
    await waitFor(() => clients.every((c) => c.seen.length >= 5), { what: "five updates on each stream" });
    // One timer per client would read once per update of each: as many reads as updates received.
    const received = clients.reduce((n, c) => n + c.seen.length, 0);
    expect(reads).toBeLessThan(received);
    // Each tick sends the same read to every client: past the first update, their numbers match.
    expect(clients[0]?.seen.slice(-2)).toEqual(clients[1]?.seen.slice(-2));
    for (const c of clients) c.stop();
    await waitFor(() => feed?.size === 0, { what: "every stream closed" });
  });

  it("skips a tick whose read fails, reports it, and goes on", async () => {
    let reads = 0;
    const errors: unknown[] = [];
    const url = await serve(async () => {
      reads++;
      if (reads === 2) throw new Error("registry unreachable");
      return reads;
    }, errors);
    const client = follow(url);
    await waitFor(() => client.seen.length >= 3, { what: "three updates" });
    expect(client.seen).not.toContain(2);
    expect(errors.map((e) => (e as Error).message)).toEqual(["registry unreachable"]);
    client.stop();
  });

  it("ends every stream when closed", async () => {
    const url = await serve(async () => 1);
    const client = follow(url);
    await waitFor(() => client.seen.length >= 1, { what: "a first update" });
    feed?.close();
    await client.done;
    expect(feed?.size).toBe(0);
  });

  it("starts a push topic with its first client, sends what it publishes, and stops it with its last", async () => {
    let started = 0;
    let stopped = 0;
    let publish: ((data: unknown) => void) | undefined;
    const pushed: Topic = {
      name: "pushed",
      start(send) {
        started++;
        publish = send;
        return () => stopped++;
      },
    };
    const url = await serve(async () => 0, [], [pushed]);
    const a = follow(`${url}?topics=pushed,tick`);
    const b = follow(`${url}?topics=pushed`, "pushed");
    await waitFor(() => feed?.clientsOf("pushed") === 2, { what: "two clients of the push topic" });
    expect(started).toBe(1);
    publish?.(7);
    await waitFor(() => b.seen.length === 1, { what: "the published data" });
    expect(b.seen).toEqual([7]);
    a.stop();
    await waitFor(() => feed?.clientsOf("pushed") === 1, { what: "one client left" });
    expect(stopped).toBe(0);
    b.stop();
    await waitFor(() => stopped === 1, { what: "the push source stopped with its last client" });
    expect(feed?.clientsOf("tick")).toBe(0);
  });
});
