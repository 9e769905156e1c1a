/** @module Lingering close: after refusing a body it has not read, the gateway reads a bounded amount more so the client gets the answer. */
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { FastifyReply } from "fastify";

export interface LingerLimits {
  readonly lingerBytes: number;
  readonly lingerMs: number;
}

/**
 * Marks this answer as the connection's last and makes the close linger, as nginx does. Closing a socket
 * with unread bytes makes the kernel send RST, and a client still uploading then loses the answer it was
 * sent: it sees ECONNRESET or EPIPE instead of the 413. So the answer goes out, the write side is shut
 * (FIN), and whatever the client still sends is read and discarded, up to `lingerBytes` or `lingerMs`
 * after the answer, whichever comes first; only then is the socket closed.
 */
export function closeLingering(reply: FastifyReply, limits: LingerLimits): void {
  reply.header("connection", "close");
  const req = reply.request.raw;
  const socket = req.socket;
  if (req.complete || socket.destroyed) return;
  const drain = new Drain(req, socket, limits);
  // Consuming the body from now on also keeps Node from "dumping" it, which would hide it from the count.
  req.on("data", (chunk: Buffer) => drain.discarded(chunk.length));
  req.once("end", () => drain.close());
  req.resume();
  // Node ends a `connection: close` answer with destroySoon(), which destroys the socket as soon as the
  // answer is flushed; this one socket lingers instead.
  socket.destroySoon = () => drain.linger();
}

class Drain {
  private left: number;
  private lingering = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly req: IncomingMessage,
    private readonly socket: Socket,
    private readonly limits: LingerLimits,
  ) {
    this.left = limits.lingerBytes;
  }

  discarded(bytes: number): void {
    this.left -= bytes;
    if (this.lingering && this.left < 0) this.close();
  }

  /** The answer is out: shut the write side so the client sees its end, and close once a bound is hit. */
  linger(): void {
    this.lingering = true;
    if (this.socket.writable) this.socket.end();
    // Only what arrives after the answer counts, so a refusal mid-upload still leaves the client its margin.
    this.left = this.limits.lingerBytes;
    if (this.req.complete) {
      this.close();
      return;
    }
    this.timer = setTimeout(() => this.close(), this.limits.lingerMs);
    this.timer.unref();
    this.socket.once("close", () => clearTimeout(this.timer));
  }

  /** Everything read, or a bound hit: nothing (or only what we chose to leave) unread, so closing is safe. */
  close(): void {
    if (!this.lingering) return;
    clearTimeout(this.timer);
    this.socket.destroy();
  }
}
