/** @module Tracks connections so shutdown can drop idle ones without cutting off answers in flight. */
import type { Server } from "node:http";
import type { Http2Session } from "node:http2";
import type { Socket } from "node:net";

/**
 * Node's `server.close()` waits for every open connection, and keeps open those that never sent a
 * request (a client's pre-opened socket, or a hostile one), so close() could hang until the client
 * leaves. Counting requests per socket lets shutdown end each socket as soon as it has nothing to answer.
 */
export class ConnectionTracker {
  private readonly inFlight = new Map<Socket, number>();
  private readonly sessions = new Set<Http2Session>();
  private closing = false;

  /**
   * `secure`: a TLS server (HTTP/2 with HTTP/1.1 fallback). Its HTTP/1.1 connections are tracked once
   * their handshake is done (requests see the TLS socket, not the TCP one); HTTP/2 sessions are closed
   * with a GOAWAY instead, which lets their open streams finish.
   */
  constructor(server: Server, secure = false) {
    server.on(secure ? "secureConnection" : "connection", (socket: Socket & { alpnProtocol?: string | false }) => {
      if (this.closing) {
        socket.destroy();
        return;
      }
      if (socket.alpnProtocol === "h2") return;
      this.inFlight.set(socket, 0);
      socket.once("close", () => this.inFlight.delete(socket));
    });
    if (secure) {
      server.on("session", (session: Http2Session) => {
        if (this.closing) session.close();
        this.sessions.add(session);
        session.once("close", () => this.sessions.delete(session));
      });
    }
    server.on("request", (req, res) => {
      const socket = req.socket;
      if (!this.inFlight.has(socket)) return;
      this.inFlight.set(socket, (this.inFlight.get(socket) ?? 0) + 1);
      // A response closes once: `on` spares the `once` wrapper and its removeListener per request.
      res.on("close", () => {
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
    for (const session of this.sessions) session.close();
  }
}

/** Flushes what is written, then closes: HTTP servers allow half-open sockets, so `end()` alone can linger. */
function hangUp(socket: Socket): void {
  socket.end(() => socket.destroy());
}
