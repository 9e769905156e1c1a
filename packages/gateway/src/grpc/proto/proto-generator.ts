/**
 * @module The `.proto` of an app's routed actions: package `<package>`, one gRPC service per Flotilla
 * service (`CatalogService`), one rpc per routed action (`GetProduct(GetProductRequest)`), whose request
 * is the action input, and the live stream when the gateway pushes live events.
 */
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import { isComposite } from "../../compose/composite-route.js";
import type { Route } from "../../route.js";
import type { MessageModel, RpcModel } from "./proto-model.js";
import { readNumbering } from "./proto-numbering.js";
import { type RenderedService, renderProto } from "./proto-render.js";
import { messageOf, pascal } from "./zod-to-proto.js";

export interface ProtoOptions {
  /** The proto package, e.g. `flotilla.shop.v1`. */
  readonly package: string;
  readonly routes: readonly Route[];
  /** Adds `LiveService.Live`, the server stream of the caller's live events. */
  readonly live?: boolean;
  /** The committed file's text: its field numbers are kept (see proto-numbering). */
  readonly previous?: string;
}

/** A routed action as gRPC serves it: its rpc's messages, and the route whose policies apply. */
export interface GrpcMethod extends RpcModel {
  /** `/flotilla.shop.v1.CatalogService/GetProduct`. */
  readonly path: string;
  readonly route: Route;
}

export interface GeneratedProto {
  readonly text: string;
  readonly methods: readonly GrpcMethod[];
  /** The live stream's path, when generated with `live`. */
  readonly livePath: string | undefined;
}

const PACKAGE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;

/** The live stream's messages: fixed, whatever the contracts say. */
export const LIVE_REQUEST: MessageModel = {
  name: "LiveRequest",
  fields: [
    {
      name: "types",
      type: { kind: "scalar", scalar: "string" },
      repeated: true,
      map: false,
      optional: true,
      nullWhenAbsent: false,
    },
    {
      name: "resume",
      type: { kind: "scalar", scalar: "string" },
      repeated: false,
      map: false,
      optional: true,
      nullWhenAbsent: false,
    },
  ],
  nested: [],
  wrapped: false,
};
export const LIVE_EVENT: MessageModel = {
  name: "LiveEvent",
  fields: [
    {
      name: "id",
      type: { kind: "scalar", scalar: "string" },
      repeated: false,
      map: false,
      optional: false,
      nullWhenAbsent: false,
    },
    {
      name: "type",
      type: { kind: "scalar", scalar: "string" },
      repeated: false,
      map: false,
      optional: false,
      nullWhenAbsent: false,
    },
    {
      name: "eventId",
      type: { kind: "scalar", scalar: "string" },
      repeated: false,
      map: false,
      optional: false,
      nullWhenAbsent: false,
    },
    { name: "data", type: { kind: "json" }, repeated: false, map: false, optional: true, nullWhenAbsent: false },
  ],
  nested: [],
  wrapped: false,
};

export function generateProto(options: ProtoOptions): GeneratedProto {
  if (!PACKAGE.test(options.package)) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `proto package "${options.package}" must be like flotilla.shop.v1`);
  }
  const previous = options.previous === undefined ? undefined : readNumbering(options.previous);
  const services = new Map<string, { service: string; rpcs: RpcModel[]; comments: Map<string, string> }>();
  const methods: GrpcMethod[] = [];
  const messages: MessageModel[] = [];
  const owners = new Map<string, string>();
  for (const route of options.routes) {
    // Composite routes are answered by the gateway over HTTP only (docs/aggregation.md).
    if (isComposite(route)) continue;
    const { action } = route;
    // An action routed twice is one rpc: the first route's policies apply to it.
    if (methods.some((m) => m.action === action.fqn)) continue;
    const serviceName = `${pascal(action.service)}Service`;
    const name = pascal(action.name);
    const rpc: RpcModel = {
      name,
      action: action.fqn,
      request: messageOf(action.input, `${name}Request`, "input"),
      response: messageOf(action.output, `${name}Response`, "output"),
    };
    for (const message of [rpc.request, rpc.response]) {
      const owner = owners.get(message.name);
      if (owner !== undefined) {
        throw FlotillaError.of(
          FlotillaCodes.CONFIG,
          `${action.fqn} and ${owner} would both define message ${message.name}: gRPC needs distinct action names`,
        );
      }
      owners.set(message.name, action.fqn);
      messages.push(message);
    }
    const service = services.get(serviceName) ?? {
      service: action.service,
      rpcs: [] as RpcModel[],
      comments: new Map<string, string>(),
    };
    services.set(serviceName, service);
    service.rpcs.push(rpc);
    service.comments.set(name, `${action.fqn}: ${route.method} ${route.path}`);
    methods.push({ ...rpc, path: `/${options.package}.${serviceName}/${name}`, route });
  }
  const rendered: RenderedService[] = [...services].map(([name, s]) => ({
    name,
    rpcs: s.rpcs,
    comment: `The ${s.service} service's routed actions.`,
    rpcComments: s.comments,
  }));
  let livePath: string | undefined;
  if (options.live === true) {
    rendered.push({
      name: "LiveService",
      rpcs: [{ name: "Live", action: "gateway.live", request: LIVE_REQUEST, response: LIVE_EVENT }],
      comment: "The caller's live events, as the gateway pushes them over SSE and WebSocket (docs/live.md).",
      streaming: new Set(["Live"]),
    });
    messages.push(LIVE_REQUEST, LIVE_EVENT);
    livePath = `/${options.package}.LiveService/Live`;
  }
  return { text: renderProto(options.package, rendered, messages, previous), methods, livePath };
}
