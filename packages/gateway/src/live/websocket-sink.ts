/** @module A live connection over a WebSocket (`ws`): JSON text frames `{ id, type, eventId, data }`, pings as heartbeats. */
import type { WebSocket } from "ws";
import type { LiveMessage, LiveSink } from "./live-hub.js";

export class WebSocketSink implements LiveSink {
  readonly protocol = "websocket";
  /** False from a ping until its pong: a peer that misses one whole interval is gone. */
  private alive = true;

  constructor(
    private readonly socket: WebSocket,
    private readonly maxBufferedBytes: number,
  ) {
    socket.on("pong", () => {
      this.alive = true;
    });
  }

  ready(id: string): boolean {
    return this.write(JSON.stringify({ type: "ready", id }));
  }

  send(message: LiveMessage): boolean {
    return this.write(message.json);
  }

  heartbeat(): boolean {
    if (!this.alive) {
      this.socket.terminate();
      return true;
    }
    this.alive = false;
    this.socket.ping();
    return this.socket.bufferedAmount <= this.maxBufferedBytes;
  }

  end(): void {
    // 1001 "going away": the server ends it (shutting down, or the client fell behind); clients reconnect.
    // A client too far behind would not read a close frame queued behind its backlog either: cut it off.
    if (this.socket.readyState === this.socket.OPEN && this.socket.bufferedAmount <= this.maxBufferedBytes) {
      this.socket.close(1001, "going away");
    } else {
      this.socket.terminate();
    }
  }

  private write(text: string): boolean {
    if (this.socket.readyState !== this.socket.OPEN) return true;
    this.socket.send(text);
    return this.socket.bufferedAmount <= this.maxBufferedBytes;
  }
}
