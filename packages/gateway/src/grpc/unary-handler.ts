/**
 * @module One routed action over gRPC: the request message decoded into the action input, the same
 * policies as its HTTP route (the gateway's, then the route's), the call, and the answer encoded.
 */
import { FlotillaError } from "@flotilla/core";
import { status as GrpcStatus, type handleUnaryCall, Metadata } from "@grpc/grpc-js";
import type protobuf from "protobufjs";
import { GatewayCodes } from "../http-errors.js";
import { composePolicies } from "../policy.js";
import { stripInternalHeaders } from "../request-guard.js";
import type { RequestView } from "../route.js";
import { actionCall } from "../route-handler.js";
import { GrpcCall, type GrpcDeps } from "./grpc-call.js";
import { GrpcExchange, grpcRoute, headersOf, peerAddress } from "./grpc-exchange.js";
import { fromProto, toProto } from "./message-codec.js";
import type { GrpcMethod } from "./proto/proto-generator.js";
import type { MessageModel } from "./proto/proto-model.js";

/** The protobufjs types of an rpc's request and response. */
export interface MethodTypes {
  readonly request: protobuf.Type;
  readonly response: protobuf.Type;
}

export function unaryHandler(method: GrpcMethod, types: MethodTypes, deps: GrpcDeps): handleUnaryCall<Buffer, Buffer> {
  const route = grpcRoute(method.route);
  const run = composePolicies([...deps.policies, ...route.policies], actionCall(deps.host, route, deps.steer));

  return (call, callback) => {
    const headers = headersOf(call.metadata);
    stripInternalHeaders(headers);
    const lifecycle = new GrpcCall(deps, method.path, headers);
    // Policies' headers (rate limits) once the exchange exists; the error's own trailers are added to them.
    let trailers = new Metadata();
    const fail = (err: unknown): void => {
      const answer = lifecycle.failure(err, trailers);
      callback(answer);
      lifecycle.end(answer.code ?? GrpcStatus.UNKNOWN);
    };
    let exchange: GrpcExchange;
    try {
      lifecycle.admit();
      const view: RequestView = {
        method: route.method,
        params: {},
        query: {},
        body: decodeMessage(method.request, types.request, call.request),
        headers,
        remoteAddress: peerAddress(call.getPeer()),
      };
      exchange = new GrpcExchange(view, route, lifecycle.ids, deps.log, timeoutOf(route.timeoutMs, call.getDeadline()));
      trailers = exchange.trailers;
    } catch (err) {
      fail(err);
      return;
    }
    run(exchange).then(
      (output) => {
        let body: Buffer;
        try {
          body = Buffer.from(
            types.response.encode(types.response.fromObject(toProto(method.response, output))).finish(),
          );
        } catch (err) {
          fail(err);
          return;
        }
        callback(null, body, lifecycle.success(trailers));
        lifecycle.end(GrpcStatus.OK);
      },
      (err: unknown) => fail(err),
    );
  };
}

/** A request's bytes as the JSON input the HTTP route would give; FLOTILLA_BAD_REQUEST when they do not decode. */
export function decodeMessage(model: MessageModel, type: protobuf.Type, bytes: Buffer): unknown {
  let message: Record<string, unknown>;
  try {
    // 64-bit integers as strings (exact), enums by name, no defaults filled: the codec fills proto3's zero values.
    message = type.toObject(type.decode(bytes), { longs: String, enums: String, defaults: false });
  } catch {
    throw FlotillaError.of(GatewayCodes.BAD_REQUEST, `the request is not a ${type.name} message`);
  }
  return fromProto(model, message);
}

/**
 * The call's timeout: the route's, shortened by the client's deadline. A deadline already past is
 * DEADLINE_EXCEEDED before anything runs.
 */
export function timeoutOf(routeTimeoutMs: number | undefined, deadline: Date | number): number | undefined {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(at)) return routeTimeoutMs;
  const remaining = Math.floor(at - Date.now());
  if (remaining <= 0) throw new FlotillaError("DEADLINE_EXCEEDED", "the call's deadline passed before it ran");
  return routeTimeoutMs === undefined ? remaining : Math.min(routeTimeoutMs, remaining);
}
