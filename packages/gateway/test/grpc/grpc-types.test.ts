/**
 * @module The zod → proto mapping on the wire: what a real gRPC client sends reaches the service as the
 * JSON the HTTP route would give (Timestamps, 64-bit integers, Values, nulls, maps, nested messages), and
 * the answer comes back typed.
 */
import { action, createHost, defineContract, defineService, type Host } from "@flotilla/core";
import { type ServiceError, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createGateway, type Gateway, GrpcMetadataKeys, route } from "../../src/index.js";
import { type GrpcTestClient, grpcClient, plain } from "./grpc-client.js";

const PKG = "flotilla.kinds.v1";

const kinds = defineContract({
  service: "kinds",
  actions: {
    echo: action({
      input: z.object({
        when: z.coerce.date(),
        big: z.int(),
        small: z.int32(),
        parent: z.string().nullable(),
        maybe: z.string().nullable().optional(),
        note: z.string().optional(),
        tags: z.array(z.string()),
        prices: z.record(z.string(), z.number()),
        anything: z.unknown(),
        either: z.union([z.object({ a: z.string() }), z.object({ b: z.number() })]),
        lines: z.array(z.object({ sku: z.string(), qty: z.number().int().min(1).max(9) })),
        flag: z.boolean(),
      }),
      output: z.object({ seen: z.record(z.string(), z.unknown()), at: z.date(), total: z.int() }),
    }),
  },
});

const kindsService = defineService(kinds, {
  actions: {
    echo: (input) => ({
      seen: input as Record<string, unknown>,
      at: new Date(input.when),
      total: input.big,
    }),
  },
});

describe("zod types over gRPC", () => {
  let host: Host;
  let gateway: Gateway;
  let client: GrpcTestClient;
  beforeAll(async () => {
    host = createHost({ services: [kindsService], transport: "memory://?faithful=true" });
    await host.start();
    gateway = createGateway({
      host,
      routes: [route({ method: "POST", path: "/echo", action: kinds.echo })],
      accessLog: false,
      grpc: { package: PKG },
    });
    await gateway.listen();
    client = grpcClient(gateway.grpc!.address!, gateway.grpc!.proto, PKG);
  });
  afterAll(async () => {
    client.close();
    await gateway.close();
    await host.stop();
  });

  const request = {
    when: { seconds: "1700000000", nanos: 500_000_000 },
    big: "9007199254740991",
    small: -5,
    maybe: { nullValue: "NULL_VALUE" },
    tags: ["a", "b"],
    prices: { eur: 1.5 },
    anything: {
      structValue: { fields: { k: { numberValue: 1 }, list: { listValue: { values: [{ boolValue: true }] } } } },
    },
    either: { structValue: { fields: { a: { stringValue: "x" } } } },
    lines: [{ sku: "s1", qty: 2 }],
  };

  it("gives the service what the HTTP route would, and answers typed fields", async () => {
    const { response } = await client.call("KindsService/Echo", request);
    const seen = Object.fromEntries(
      Object.entries(response.seen as Record<string, unknown>).map(([k, v]) => [k, plain(v)]),
    );
    expect(seen).toEqual({
      when: "2023-11-14T22:13:20.500Z",
      big: 9007199254740991,
      small: -5,
      parent: null,
      maybe: null,
      tags: ["a", "b"],
      prices: { eur: 1.5 },
      anything: { k: 1, list: [true] },
      either: { a: "x" },
      lines: [{ sku: "s1", qty: 2 }],
      flag: false,
    });
    expect(response.at).toEqual({ seconds: "1700000000", nanos: 500_000_000 });
    expect(response.total).toBe("9007199254740991");
  });

  it("leaves an optional field out when it was not sent, and keeps one that was", async () => {
    const { maybe: _, ...without } = request;
    const { response } = await client.call("KindsService/Echo", { ...without, note: "" });
    const seen = response.seen as Record<string, unknown>;
    expect(Object.keys(seen)).not.toContain("maybe");
    expect(plain(seen.note)).toBe("");
  });

  it("refuses a 64-bit integer a JS number cannot hold exactly, as the contract would over JSON", async () => {
    const err = await client.call("KindsService/Echo", { ...request, big: "9007199254740993" }).then(
      () => undefined,
      (e: ServiceError) => e,
    );
    expect(err?.code).toBe(status.INVALID_ARGUMENT);
    expect(err?.metadata.get(GrpcMetadataKeys.code)[0]).toBe("INVALID_ARGUMENT");
    const details = JSON.parse(String(err?.metadata.get(GrpcMetadataKeys.details)[0])) as {
      issues: { path: string }[];
    };
    expect(details.issues.map((i) => i.path)).toEqual(["big"]);
  });
});
