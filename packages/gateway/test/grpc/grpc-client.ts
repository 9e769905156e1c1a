/** @module A real gRPC client for tests: @grpc/proto-loader reads the `.proto` the gateway serves, @grpc/grpc-js calls it. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

export interface Answer {
  readonly response: Record<string, unknown>;
  readonly trailers: grpc.Metadata;
}

export interface GrpcTestClient {
  /** Calls `Service/Method` with `request`; resolves with the answer and its trailers, rejects with the ServiceError. */
  call(
    path: string,
    request: Record<string, unknown>,
    metadata?: Record<string, string>,
    options?: grpc.CallOptions,
  ): Promise<Answer>;
  /** Opens a server stream. */
  stream(
    path: string,
    request: Record<string, unknown>,
    metadata?: Record<string, string>,
  ): grpc.ClientReadableStream<Record<string, unknown>>;
  /** Sends raw bytes as the request of `path`: what a broken client would send. */
  raw(path: string, bytes: Buffer): Promise<Buffer>;
  close(): void;
}

/** As a gRPC client in JS usually reads messages: names as declared, 64-bit integers as strings, defaults filled. */
export const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true } as const;

/** A client of the gateway at `address` speaking `proto`; plaintext unless given credentials (TLS). */
export function grpcClient(
  address: string,
  proto: string,
  pkg: string,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): GrpcTestClient {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-grpc-"));
  const file = join(dir, "served.proto");
  writeFileSync(file, proto);
  const definition = loadSync(file, LOADER_OPTIONS);
  rmSync(dir, { recursive: true, force: true });
  const loaded = grpc.loadPackageDefinition(definition);
  const clients = new Map<string, grpc.Client>();
  const clientOf = (service: string): grpc.Client & Record<string, (...args: unknown[]) => unknown> => {
    let client = clients.get(service);
    if (client === undefined) {
      const Ctor = pkg
        .split(".")
        .concat(service)
        .reduce(
          (o: unknown, k) => (o as Record<string, unknown>)[k],
          loaded as unknown,
        ) as grpc.ServiceClientConstructor;
      client = new Ctor(address, credentials);
      clients.set(service, client);
    }
    return client as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  };
  const split = (path: string) => path.split("/") as [string, string];
  const metadataOf = (entries: Record<string, string>) => {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(entries)) md.set(k, v);
    return md;
  };
  const Raw = grpc.makeGenericClientConstructor({}, "raw");
  const raw = new Raw(address, credentials);
  return {
    call(path, request, metadata = {}, options = {}) {
      const [service, method] = split(path);
      const client = clientOf(service);
      return new Promise((resolve, reject) => {
        // The callback and the status (with the trailers) come one after the other: settle when both are in.
        let outcome: { err: grpc.ServiceError | null; response: Record<string, unknown> } | undefined;
        let trailers: grpc.Metadata | undefined;
        const settle = () => {
          if (outcome === undefined || trailers === undefined) return;
          if (outcome.err !== null) reject(outcome.err);
          else resolve({ response: outcome.response, trailers });
        };
        const call = client[method]!.call(
          client,
          request,
          metadataOf(metadata),
          options,
          (err: grpc.ServiceError | null, response: Record<string, unknown>) => {
            outcome = { err, response };
            settle();
          },
        ) as grpc.ClientUnaryCall;
        call.on("status", (status: grpc.StatusObject) => {
          trailers = status.metadata;
          settle();
        });
      });
    },
    stream(path, request, metadata = {}) {
      const [service, method] = split(path);
      const client = clientOf(service);
      return client[method]!.call(client, request, metadataOf(metadata)) as grpc.ClientReadableStream<
        Record<string, unknown>
      >;
    },
    raw(path, bytes) {
      return new Promise((resolve, reject) => {
        raw.makeUnaryRequest(
          `/${pkg}.${path}`,
          (b: Buffer) => b,
          (b: Buffer) => b,
          bytes,
          (err: grpc.ServiceError | null, response?: Buffer) => (err === null ? resolve(response!) : reject(err)),
        );
      });
    },
    close() {
      for (const client of clients.values()) client.close();
      raw.close();
    },
  };
}

/** A google.protobuf.Value as proto-loader hands it over (`{ kind, structValue, … }`) → plain JSON. */
export function plain(value: unknown): unknown {
  const v = value as Record<string, unknown> | null | undefined;
  if (v === null || v === undefined) return undefined;
  switch (v.kind) {
    case "structValue":
      return Object.fromEntries(
        Object.entries((v.structValue as { fields: Record<string, unknown> }).fields).map(([k, f]) => [k, plain(f)]),
      );
    case "listValue":
      return (v.listValue as { values: unknown[] }).values.map(plain);
    case "nullValue":
      return null;
    default:
      return v[v.kind as string];
  }
}
