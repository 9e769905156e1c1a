/**
 * @module `LiveService.Live`: the caller's live events as a server stream, behind the same policies as
 * `GET /api/v1/live` (the gateway's, then the live ones: a signed-in caller by default), resumable from
 * the `id` of the last event received.
 */
import { action, defineContract, FlotillaError, type Identity } from "@flotilla/core";
import { status as GrpcStatus, type handleServerStreamingCall, Metadata } from "@grpc/grpc-js";
import type protobuf from "protobufjs";
import { z } from "zod";
import { authenticated } from "../auth/route-policies.js";
import { parseCursor } from "../live/live-cursor.js";
import type { LiveHub } from "../live/live-hub.js";
import { LIVE_DEFAULTS, type LiveOptions } from "../live/live-options.js";
import { composePolicies } from "../policy.js";
import { stripInternalHeaders } from "../request-guard.js";
import { route } from "../route.js";
import { GrpcCall, type GrpcDeps } from "./grpc-call.js";
import { GrpcExchange, headersOf, peerAddress } from "./grpc-exchange.js";
import { GrpcLiveSink } from "./grpc-live-sink.js";
import { LIVE_REQUEST } from "./proto/proto-generator.js";
import { decodeMessage } from "./unary-handler.js";

/** The stream as policies see it: a route whose action names what the gateway answers itself. */
const edge = defineContract({
  service: "gateway",
  actions: {
    live: action({
      input: z.object({ types: z.array(z.string().max(200)).max(100).optional(), resume: z.string().optional() }),
      output: z.unknown(),
      idempotent: true,
    }),
  },
});

export interface LiveTypes {
  readonly request: protobuf.Type;
  readonly event: protobuf.Type;
}

export function liveHandler(
  path: string,
  hub: LiveHub,
  live: LiveOptions,
  types: LiveTypes,
  deps: GrpcDeps,
): handleServerStreamingCall<Buffer, Buffer> {
  const liveRoute = route({
    method: "GET",
    path,
    action: edge.live,
    input: (req) => req.body as z.input<typeof edge.live.input>,
    policies: live.policies ?? [authenticated()],
  });
  const run = composePolicies([...deps.policies, ...liveRoute.policies], async (ex) => ex.caller);
  const maxBufferedBytes = live.maxBufferedBytes ?? LIVE_DEFAULTS.maxBufferedBytes;

  return (call) => {
    const headers = headersOf(call.metadata);
    stripInternalHeaders(headers);
    const lifecycle = new GrpcCall(deps, path, headers);
    const fail = (err: unknown, trailers = new Metadata()): void => {
      const answer = lifecycle.failure(err, trailers);
      call.emit("error", answer);
      lifecycle.end(answer.code ?? GrpcStatus.UNKNOWN);
    };
    let exchange: GrpcExchange;
    try {
      lifecycle.admit();
      const body = decodeMessage(LIVE_REQUEST, types.request, call.request);
      const view = { method: "GET", params: {}, query: {}, body, headers, remoteAddress: peerAddress(call.getPeer()) };
      exchange = new GrpcExchange(view, liveRoute, lifecycle.ids, deps.log, undefined);
    } catch (err) {
      fail(err);
      return;
    }
    run(exchange)
      .then((caller) => {
        if (caller === undefined) throw new FlotillaError("UNAUTHENTICATED", "live push needs a signed-in caller");
        const input = exchange.input as z.output<typeof edge.live.input>;
        const resume = input.resume === undefined ? undefined : parseCursor(input.resume);
        const user = (caller as Identity).subject;
        hub.admit(user);
        // A stream is not a call: it leaves the request ceiling and counts against the live limits instead.
        lifecycle.state.release();
        const sink = new GrpcLiveSink(call, types.event, maxBufferedBytes, new Set(input.types ?? []));
        call.sendMetadata(lifecycle.success(exchange.trailers));
        const connection = hub.open(user, sink, resume);
        call.once("close", () => {
          hub.detach(connection);
          lifecycle.end(call.cancelled ? GrpcStatus.CANCELLED : GrpcStatus.OK);
        });
      })
      .catch((err: unknown) => fail(err, exchange.trailers));
  };
}
