/** @module Live push on a gRPC server stream: `ready`, then each of the caller's events as a LiveEvent message. */
import { status as GrpcStatus, type ServerWritableStream } from "@grpc/grpc-js";
import type protobuf from "protobufjs";
import type { LiveMessage, LiveSink } from "../live/live-hub.js";
import { toProto } from "./message-codec.js";
import { LIVE_EVENT } from "./proto/proto-generator.js";

export class GrpcLiveSink implements LiveSink {
  readonly protocol = "grpc";
  /** Bytes written to the stream that HTTP/2 has not sent yet. */
  private pending = 0;
  private ended = false;

  constructor(
    private readonly call: ServerWritableStream<Buffer, Buffer>,
    private readonly type: protobuf.Type,
    private readonly maxBufferedBytes: number,
    /** Event types the caller asked for; empty: all of theirs. */
    private readonly types: ReadonlySet<string>,
  ) {}

  ready(id: string): boolean {
    return this.write({ id, type: "ready", eventId: "" });
  }

  send(message: LiveMessage): boolean {
    if (this.types.size > 0 && !this.types.has(message.type)) return true;
    return this.write({ id: message.id, type: message.type, eventId: message.eventId, data: message.data });
  }

  /** HTTP/2 keeps the connection alive with its own pings; a beat only checks the client keeps up. */
  heartbeat(): boolean {
    return this.pending <= this.maxBufferedBytes;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.pending <= this.maxBufferedBytes) {
      this.call.end();
      return;
    }
    // Dropped for falling behind: the client resumes from the last id it got, here or at another gateway.
    this.call.emit("error", { code: GrpcStatus.UNAVAILABLE, details: "live client too slow: resume from the last id" });
  }

  private write(event: Record<string, unknown>): boolean {
    if (this.ended || this.call.cancelled) return true;
    const bytes = Buffer.from(this.type.encode(this.type.fromObject(toProto(LIVE_EVENT, event))).finish());
    this.pending += bytes.length;
    this.call.write(bytes, () => {
      this.pending -= bytes.length;
    });
    return this.pending <= this.maxBufferedBytes;
  }
}
