/**
 * @module Server push of the dashboard: `GET /_flotilla/api/events?topics=a,b` streams the named topics
 * to each client. A polled topic has one timer shared by its clients and a push topic one source, both
 * started with their first client and stopped with their last: the cost is per topic, not per client.
 */
import type { ServerResponse } from "node:http";
import type { PolledTopic, PushTopic, Topic } from "./panel.js";

/** Bytes a slow client may leave unread before it is cut off. */
const MAX_BUFFERED_BYTES = 1 << 20;

/** How long a browser waits before it reconnects a stream that ended. */
const RETRY_MS = 2_000;

interface Running {
  readonly clients: Set<ServerResponse>;
  /** Ends the timer or the push source. */
  stop(): void;
}

export class FeedHub {
  private readonly topics = new Map<string, Topic>();
  private readonly running = new Map<string, Running>();
  private readonly streams = new Set<ServerResponse>();

  constructor(private readonly onError: (topic: string, err: unknown) => void) {}

  add(topic: Topic): void {
    if (this.topics.has(topic.name)) throw new Error(`dashboard topic ${topic.name} is registered twice`);
    this.topics.set(topic.name, topic);
  }

  has(name: string): boolean {
    return this.topics.has(name);
  }

  /** Open streams. */
  get size(): number {
    return this.streams.size;
  }

  /** Clients of one topic. */
  clientsOf(name: string): number {
    return this.running.get(name)?.clients.size ?? 0;
  }

  /** Takes over `res` as an event stream of `names` (each registered: check with `has` first). */
  open(
    res: ServerResponse,
    headers: Record<string, string | number | readonly string[]>,
    names: readonly string[],
  ): void {
    res.writeHead(200, {
      ...headers,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    });
    res.write(`: flotilla dashboard\nretry: ${RETRY_MS}\n\n`);
    this.streams.add(res);
    const joined = [...new Set(names)];
    for (const name of joined) this.join(name, res);
    res.once("close", () => {
      this.streams.delete(res);
      for (const name of joined) this.leave(name, res);
    });
  }

  /** Ends every stream and stops every topic. */
  close(): void {
    for (const res of this.streams) res.end();
    this.streams.clear();
    for (const running of this.running.values()) running.stop();
    this.running.clear();
  }

  private join(name: string, res: ServerResponse): void {
    const topic = this.topics.get(name) as Topic;
    let running = this.running.get(name);
    if (running === undefined) {
      running = "read" in topic ? this.poll(topic) : this.push(topic);
      this.running.set(name, running);
    }
    running.clients.add(res);
    // A new client of a polled topic gets a reading at once, not after a period.
    if ("read" in topic) void this.read(topic).then((chunk) => chunk !== undefined && write(res, chunk));
  }

  private leave(name: string, res: ServerResponse): void {
    const running = this.running.get(name);
    if (running === undefined) return;
    running.clients.delete(res);
    if (running.clients.size > 0) return;
    running.stop();
    this.running.delete(name);
  }

  private poll(topic: PolledTopic): Running {
    const clients = new Set<ServerResponse>();
    let ticking = false;
    const timer = setInterval(async () => {
      // A read slower than the period skips a tick rather than piling reads up.
      if (ticking) return;
      ticking = true;
      try {
        const chunk = await this.read(topic);
        if (chunk !== undefined) broadcast(clients, chunk);
      } finally {
        ticking = false;
      }
    }, topic.everyMs);
    return { clients, stop: () => clearInterval(timer) };
  }

  private push(topic: PushTopic): Running {
    const clients = new Set<ServerResponse>();
    let stopped = false;
    const stop = topic.start((data) => {
      if (!stopped) broadcast(clients, frame(topic.name, data));
    });
    return {
      clients,
      stop: () => {
        stopped = true;
        stop();
      },
    };
  }

  private async read(topic: PolledTopic): Promise<string | undefined> {
    try {
      return frame(topic.name, await topic.read());
    } catch (err) {
      this.onError(topic.name, err);
      return undefined;
    }
  }
}

/** One Server-Sent Event; JSON has no raw line breaks, so the data is one `data:` line. */
function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function broadcast(clients: Set<ServerResponse>, chunk: string): void {
  for (const res of clients) {
    if (!write(res, chunk)) res.destroy();
  }
}

/** Whether the client keeps up: what it has not taken yet stays within the bound. */
function write(res: ServerResponse, chunk: string): boolean {
  if (res.destroyed || res.writableEnded) return true;
  res.write(chunk);
  return res.writableLength <= MAX_BUFFERED_BYTES;
}
