/** @module Server-Sent Events on a raw HTTP response: the `retry` hint, `ready`, messages with ids, comment heartbeats. */
import type { ServerResponse } from "node:http";
import type { LiveMessage, LiveSink } from "./live-hub.js";

export class SseSink implements LiveSink {
  readonly protocol = "sse";

  private started = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly maxBufferedBytes: number,
    private readonly headers: Record<string, string | number | readonly string[]>,
    private readonly retryMs: number,
  ) {}

  /** The status line and headers, and the reconnection hint: written with the first message. */
  private start(): void {
    this.started = true;
    this.res.writeHead(200, {
      ...this.headers,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      // Proxies that buffer answers (nginx) would hold the events back.
      "x-accel-buffering": "no",
    });
    // A padding comment first: some proxies and browsers hold the first bytes of a stream back.
    this.res.write(`: live\nretry: ${this.retryMs}\n\n`);
  }

  ready(id: string): boolean {
    return this.write(`event: ready\nid: ${id}\ndata: ${JSON.stringify({ id })}\n\n`);
  }

  send(message: LiveMessage): boolean {
    // JSON has no raw line breaks, so the data is one `data:` line.
    return this.write(`id: ${message.id}\ndata: ${message.json}\n\n`);
  }

  heartbeat(): boolean {
    return this.write(": heartbeat\n\n");
  }

  end(): void {
    if (!this.started) this.start();
    // A client too far behind would not take the end either: cut it off.
    if (this.res.writableLength > this.maxBufferedBytes) this.res.destroy();
    else this.res.end();
  }

  /** Whether the client keeps up: what it has not taken yet stays within the bound. */
  private write(text: string): boolean {
    if (this.res.destroyed || this.res.writableEnded) return true;
    if (!this.started) this.start();
    this.res.write(text);
    return this.res.writableLength <= this.maxBufferedBytes;
  }
}
