/** @module Server push of the dashboard: every client of `GET /_flotilla/api/events` fed from one shared timer. */
import type { ServerResponse } from "node:http";

/** What the feed sends each tick: an event name and its JSON-serializable data. */
export type FeedSource = () => Promise<{ readonly event: string; readonly data: unknown }>;

/** Bytes a slow client may leave unread before it is cut off. */
const MAX_BUFFERED_BYTES = 1 << 20;

/**
 * Keeps the open event streams and, while there is at least one, a single timer that reads the source once
 * per tick and writes the same bytes to every stream: the cost is per tick, not per client.
 */
export class EventFeed {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(
    private readonly source: FeedSource,
    private readonly everyMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Open streams. */
  get size(): number {
    return this.clients.size;
  }

  /** Takes over `res` as an event stream: headers, a first update at once, then one per tick until it closes. */
  open(res: ServerResponse, headers: Record<string, string | number | readonly string[]>): void {
    res.writeHead(200, {
      ...headers,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    });
    res.write(`: flotilla dashboard\nretry: ${this.everyMs}\n\n`);
    this.clients.add(res);
    res.once("close", () => this.detach(res));
    this.timer ??= setInterval(() => void this.tick(), this.everyMs);
    void this.read().then((chunk) => chunk !== undefined && write(res, chunk));
  }

  /** Ends every stream and stops the timer. */
  close(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
    this.stop();
  }

  private detach(res: ServerResponse): void {
    this.clients.delete(res);
    if (this.clients.size === 0) this.stop();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    // A read slower than the period skips a tick rather than piling reads up.
    if (this.ticking) return;
    this.ticking = true;
    try {
      const chunk = await this.read();
      if (chunk === undefined) return;
      for (const res of this.clients) {
        if (!write(res, chunk)) res.destroy();
      }
    } finally {
      this.ticking = false;
    }
  }

  private async read(): Promise<string | undefined> {
    try {
      const { event, data } = await this.source();
      // JSON has no raw line breaks, so the data is one `data:` line.
      return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    } catch (err) {
      this.onError(err);
      return undefined;
    }
  }
}

/** Whether the client keeps up: what it has not taken yet stays within the bound. */
function write(res: ServerResponse, chunk: string): boolean {
  if (res.destroyed || res.writableEnded) return true;
  res.write(chunk);
  return res.writableLength <= MAX_BUFFERED_BYTES;
}
