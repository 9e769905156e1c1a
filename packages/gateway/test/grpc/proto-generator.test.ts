/** @module The `.proto` generator: the zod → proto3 mapping, stable field numbers across contract changes, hand edits refused. */
import { action, defineContract, FlotillaError } from "@flotilla/core";
import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { generateProto, route } from "../../src/index.js";

const PKG = "flotilla.test.v1";

function protoOf(input: z.ZodType, output: z.ZodType = z.object({ ok: z.boolean() }), previous?: string): string {
  const shop = defineContract({ service: "shop", actions: { put: action({ input, output }) } });
  return generateProto({
    package: PKG,
    routes: [route({ method: "POST", path: "/put", action: shop.put })],
    ...(previous === undefined ? {} : { previous }),
  }).text;
}

/** `name → number` of a message's fields, read back with protobufjs. */
function numbers(text: string, message: string): Record<string, number> {
  const type = protobuf.parse(text, { keepCase: true }).root.lookupType(`${PKG}.${message}`);
  return Object.fromEntries(type.fieldsArray.map((f) => [f.name, f.id]));
}

function configError(run: () => unknown): FlotillaError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(FlotillaError);
    expect((err as FlotillaError).code).toBe("FLOTILLA_CONFIG");
    return err as FlotillaError;
  }
  throw new Error("expected FLOTILLA_CONFIG");
}

describe("zod → proto3", () => {
  const text = protoOf(
    z.object({
      small: z.number().int().min(0).max(100),
      signed: z.int32(),
      count: z.number().int().nonnegative(),
      big: z.int(),
      ratio: z.number(),
      name: z.string(),
      flag: z.boolean(),
      status: z.enum(["a", "b"]),
      kind: z.literal("fixed"),
      note: z.string().optional(),
      page: z.coerce.number().int().min(1).max(50).default(1),
      parent: z.string().nullable(),
      maybe: z.string().nullable().optional(),
      tags: z.array(z.string()),
      lines: z.array(z.object({ sku: z.string(), qty: z.number().int().min(1).max(9) })),
      prices: z.record(z.string(), z.number()),
      address: z.object({ city: z.string() }).optional(),
      when: z.date(),
      at: z.iso.datetime(),
      either: z.union([z.object({ a: z.string() }), z.object({ b: z.number() })]),
      anything: z.unknown(),
      grid: z.array(z.array(z.number())),
    }),
  );

  it("maps each zod type to its proto3 field", () => {
    for (const line of [
      "uint32 small = 1;",
      "int32 signed = 2;",
      "uint64 count = 3;",
      "int64 big = 4;",
      "double ratio = 5;",
      "string name = 6;",
      "bool flag = 7;",
      "string status = 8;",
      "string kind = 9;",
      "optional string note = 10;",
      "optional uint32 page = 11;",
      "optional string parent = 12;",
      "google.protobuf.Value maybe = 13;",
      "repeated string tags = 14;",
      "repeated Line lines = 15;",
      "map<string, double> prices = 16;",
      "Address address = 17;",
      "google.protobuf.Timestamp when = 18;",
      "string at = 19;",
      "google.protobuf.Value either = 20;",
      "google.protobuf.Value anything = 21;",
      "google.protobuf.Value grid = 22;",
    ]) {
      expect(text).toContain(`  ${line}\n`);
    }
    expect(text).toContain("  message Line {\n    string sku = 1;\n    uint32 qty = 2;\n  }");
    expect(text).toContain('import "google/protobuf/struct.proto";\nimport "google/protobuf/timestamp.proto";');
    expect(text).toContain("rpc Put(PutRequest) returns (PutResponse);");
  });

  it("wraps a schema that is not an object in a `value` field, and an empty answer in an empty message", () => {
    const wrapped = protoOf(z.array(z.string()), z.void());
    expect(wrapped).toContain("message PutRequest {\n  repeated string value = 1;\n}");
    expect(wrapped).toContain("message PutResponse {\n}");
  });

  it("refuses a field name proto cannot carry, and a package that is not one", () => {
    configError(() => protoOf(z.object({ "not-an-identifier": z.string() })));
    const shop = defineContract({
      service: "shop",
      actions: { put: action({ input: z.object({}), output: z.object({}) }) },
    });
    configError(() =>
      generateProto({ package: "Flotilla-Shop", routes: [route({ method: "POST", path: "/put", action: shop.put })] }),
    );
  });
});

describe("field numbers across contract changes", () => {
  const v1 = protoOf(z.object({ id: z.string(), name: z.string(), price: z.number(), note: z.string().optional() }));

  it("keeps every number when fields are reordered, added and removed; removed ones become reserved", () => {
    // Reordered, `name` removed, `stock` and `colour` added.
    const v2 = protoOf(
      z.object({ stock: z.number().int().min(0).max(10), price: z.number(), id: z.string(), colour: z.string() }),
      undefined,
      v1,
    );
    expect(numbers(v1, "PutRequest")).toEqual({ id: 1, name: 2, price: 3, note: 4 });
    expect(numbers(v2, "PutRequest")).toEqual({ stock: 5, price: 3, id: 1, colour: 6 });
    expect(v2).toContain("  reserved 2, 4;\n");
    expect(v2).toContain('  reserved "name", "note";\n');
    // Generated again from itself: the same file, byte for byte.
    expect(
      protoOf(
        z.object({ stock: z.number().int().min(0).max(10), price: z.number(), id: z.string(), colour: z.string() }),
        undefined,
        v2,
      ),
    ).toBe(v2);
    // A later field never takes a reserved number.
    const v3 = protoOf(z.object({ id: z.string(), extra: z.boolean() }), undefined, v2);
    expect(numbers(v3, "PutRequest")).toEqual({ id: 1, extra: 7 });
  });

  it("refuses a removed field's name coming back, and a type change old clients would misread", () => {
    const v2 = protoOf(z.object({ id: z.string(), price: z.number(), note: z.string().optional() }), undefined, v1);
    const back = configError(() => protoOf(z.object({ id: z.string(), name: z.string() }), undefined, v2));
    expect(back.message).toContain("name is reserved");
    const retyped = configError(() =>
      protoOf(z.object({ id: z.number(), name: z.string(), price: z.number() }), undefined, v1),
    );
    expect(retyped.message).toContain("PutRequest.id changed from string to double");
  });

  it("lets an integer widen (same wire encoding) and keeps its number", () => {
    const narrow = protoOf(z.object({ n: z.int32() }));
    const wide = protoOf(z.object({ n: z.int() }), undefined, narrow);
    expect(wide).toContain("  int64 n = 1;\n");
  });

  it("keeps the numbers of nested messages too", () => {
    const a = protoOf(z.object({ lines: z.array(z.object({ sku: z.string(), qty: z.number() })) }));
    const b = protoOf(z.object({ lines: z.array(z.object({ gift: z.boolean(), qty: z.number() })) }), undefined, a);
    expect(b).toContain(
      '  message Line {\n    reserved 1;\n    reserved "sku";\n    bool gift = 3;\n    double qty = 2;\n  }',
    );
  });

  it("refuses a previous file whose numbers were edited by hand", () => {
    const renumbered = v1.replace("string name = 2;", "string name = 7;");
    const err = configError(() => protoOf(z.object({ id: z.string(), name: z.string() }), undefined, renumbered));
    expect(err.message).toContain("edited by hand");
    const unlocked = v1.replace(/^\/\/ flotilla-proto-lock: .*$/m, "");
    expect(configError(() => protoOf(z.object({ id: z.string() }), undefined, unlocked)).message).toContain("lock");
    expect(configError(() => protoOf(z.object({ id: z.string() }), undefined, "message {")).message).toContain("parse");
  });
});
