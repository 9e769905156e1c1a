/**
 * @module The gateway's gRPC server: the routed actions of the generated `.proto` (and the live stream),
 * on a port of their own, within the gateway's limits (message size = body limit, header bytes, the
 * shared concurrency ceiling).
 */
import { readFileSync } from "node:fs";
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import { type MethodDefinition, Server, ServerCredentials, type UntypedServiceImplementation } from "@grpc/grpc-js";
import protobuf from "protobufjs";
import type { GatewayLimits } from "../limits.js";
import type { LiveHub } from "../live/live-hub.js";
import type { LiveOptions } from "../live/live-options.js";
import type { Route } from "../route.js";
import type { KeyPair } from "../tls/index.js";
import type { GrpcDeps } from "./grpc-call.js";
import { liveHandler } from "./live-handler.js";
import { generateProto } from "./proto/proto-generator.js";
import { unaryHandler } from "./unary-handler.js";

export interface GrpcOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Interface to bind (127.0.0.1); use 0.0.0.0 in a container. */
  host?: string;
  /** The proto package (`flotilla.v1`), e.g. `flotilla.shop.v1`. */
  package?: string;
  /**
   * The committed `.proto` (written by `flotilla proto`): its field numbers are served. Absent: numbers
   * are assigned afresh, which is only stable while no contract changes.
   */
  protoFile?: string;
}

export interface GrpcServerDeps extends GrpcDeps {
  readonly routes: readonly Route[];
  readonly limits: GatewayLimits;
  /** Live push, when the gateway has it: the stream shares its hub with SSE and WebSocket. */
  readonly live: { readonly hub: LiveHub; readonly options: LiveOptions } | undefined;
  /** The gateway's TLS key pair: gRPC serves TLS with it too (loaded once: no reload on rotation). */
  readonly tls: KeyPair | undefined;
}

/** What the gateway shows of its gRPC server. */
export interface GrpcEndpoint {
  /** The bound address, `127.0.0.1:50051`, once listening. */
  readonly address: string | undefined;
  /** The `.proto` this server speaks. */
  readonly proto: string;
}

const passThrough = (bytes: Buffer): Buffer => bytes;

export class GrpcServer implements GrpcEndpoint {
  readonly proto: string;
  private readonly server: Server;
  private bound: string | undefined;

  constructor(
    private readonly options: GrpcOptions,
    private readonly deps: GrpcServerDeps,
  ) {
    const pkg = options.package ?? "flotilla.v1";
    const previous = options.protoFile === undefined ? undefined : readProto(options.protoFile);
    const generated = generateProto({ package: pkg, routes: deps.routes, live: deps.live !== undefined, previous });
    if (previous !== undefined && previous !== generated.text) {
      deps.log.warn(
        { protoFile: options.protoFile },
        "the committed .proto is behind the contracts: serving the new fields too; run `flotilla proto` to commit them",
      );
    }
    this.proto = generated.text;
    const root = protoRoot(generated.text);
    this.server = new Server({
      "grpc.max_receive_message_length": deps.limits.bodyLimitBytes,
      "grpc.max_metadata_size": deps.limits.maxHeaderBytes,
    });
    const services = new Map<
      string,
      { definition: Record<string, MethodDefinition<Buffer, Buffer>>; impl: UntypedServiceImplementation }
    >();
    const add = (path: string, streaming: boolean, handler: UntypedServiceImplementation[string]): void => {
      const [service, method] = path.slice(1).split("/") as [string, string];
      const entry = services.get(service) ?? { definition: {}, impl: {} };
      services.set(service, entry);
      entry.definition[method] = {
        path,
        requestStream: false,
        responseStream: streaming,
        requestSerialize: passThrough,
        requestDeserialize: passThrough,
        responseSerialize: passThrough,
        responseDeserialize: passThrough,
      };
      entry.impl[method] = handler;
    };
    for (const method of generated.methods) {
      const types = {
        request: root.lookupType(`${pkg}.${method.request.name}`),
        response: root.lookupType(`${pkg}.${method.response.name}`),
      };
      add(method.path, false, unaryHandler(method, types, deps));
    }
    if (deps.live !== undefined && generated.livePath !== undefined) {
      const types = { request: root.lookupType(`${pkg}.LiveRequest`), event: root.lookupType(`${pkg}.LiveEvent`) };
      add(generated.livePath, true, liveHandler(generated.livePath, deps.live.hub, deps.live.options, types, deps));
    }
    for (const { definition, impl } of services.values()) this.server.addService(definition, impl);
  }

  get address(): string | undefined {
    return this.bound;
  }

  listen(): Promise<string> {
    const host = this.options.host ?? "127.0.0.1";
    const credentials =
      this.deps.tls === undefined
        ? ServerCredentials.createInsecure()
        : ServerCredentials.createSsl(null, [{ private_key: this.deps.tls.key, cert_chain: this.deps.tls.cert }]);
    return new Promise((resolve, reject) => {
      const target = host.includes(":") ? `[${host}]:${this.options.port ?? 0}` : `${host}:${this.options.port ?? 0}`;
      this.server.bindAsync(target, credentials, (err, port) => {
        if (err !== null) {
          reject(FlotillaError.of(FlotillaCodes.CONFIG, `gRPC cannot listen on ${target}: ${err.message}`));
          return;
        }
        this.bound = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
        resolve(this.bound);
      });
    });
  }

  /** Lets calls in flight finish (within `requestTimeoutMs`), then stops; live streams end with the hub. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      const force = setTimeout(() => this.server.forceShutdown(), this.deps.limits.requestTimeoutMs);
      force.unref();
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }
}

/** The generated file with the google.protobuf types it imports (Value, Timestamp), resolved. */
function protoRoot(text: string): protobuf.Root {
  const root = new protobuf.Root();
  for (const file of ["google/protobuf/struct.proto", "google/protobuf/timestamp.proto"]) {
    root.addJSON((protobuf.common.get(file) as { nested: protobuf.INamespace["nested"] }).nested ?? {});
  }
  protobuf.parse(text, root, { keepCase: true });
  root.resolveAll();
  return root;
}

/** The committed file's text; a file that cannot be read stops the start, as a TLS pair that does not load does. */
function readProto(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `gRPC protoFile ${file} cannot be read: ${(err as Error).message}`);
  }
}
