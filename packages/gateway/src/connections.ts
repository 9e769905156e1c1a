/** @module Tracks connections so shutdown can drop idle ones without cutting off answers in flight. */
import type { Server } from "node:http";
import type { Socket } from "node:net";

/**
 * Node's `server.close()` waits for every open connection, and keeps open those that never sent a
 * request (a client's pre-opened socket, or a hostile one), so close() could hang until the client
 * leaves. Counting requests per socket lets shutdown end each socket as soon as it has nothing to answer.
 */
export class ConnectionTracker {
  private readonly inFlight = new Map<Socket, number>();
  private closing = false;

  constructor(server: Server) {
    server.on("connection", (socket: Socket) => {
      if (this.closing) {
        socket.destroy();
        return;
      }
      this.inFlight.set(socket, 0);
      socket.once("close", () => this.inFlight.delete(socket));
    });
    server.on("request", (req, res) => {
      const socket = req.socket;
      this.inFlight.set(socket, (this.inFlight.get(socket) ?? 0) + 1);
      res.once("close", () => {
        const left = (this.inFlight.get(socket) ?? 1) - 1;
        this.inFlight.set(socket, left);
        if (this.closing && left === 0) hangUp(socket);
      });
    });
  }

  /** From now on, ends every connection that has nothing in flight, now or once its answers are out. */
  closeIdle(): void {
    this.closing = true;
    for (const [socket, count] of this.inFlight) if (count === 0) hangUp(socket);
  }
}

/** Flushes what is written, then closes: HTTP servers allow half-open sockets, so `end()` alone can linger. */
function hangUp(socket: Socket): void {
  socket.end(() => socket.destroy());
}
