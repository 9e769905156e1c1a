/** Sensitive fields: the mark, and `redact` at every depth a contract's schema can put a field. */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { isSensitive, REDACTED, redact, sensitive } from "../src/sensitive.js";

describe("sensitive fields", () => {
  const Address = z.object({ street: sensitive(z.string()), city: z.string() });
  const Schema = z.object({
    id: z.string(),
    email: sensitive(z.string().trim().toLowerCase().pipe(z.email())),
    address: Address.nullable(),
    previous: z.array(Address).optional(),
    cards: z.record(z.string(), sensitive(z.string())),
    payment: z.union([z.object({ card: sensitive(z.string()) }), z.object({ voucher: z.string() })]).optional(),
    note: z.string().meta({ "x-sensitive": true }).optional(),
  });

  it("marks a schema without changing what it accepts", () => {
    const card = sensitive(z.string().regex(/^\d{12,19}$/));
    expect(isSensitive(card)).toBe(true);
    expect(isSensitive(z.string())).toBe(false);
    expect(card.safeParse("4242424242424242").success).toBe(true);
    expect(card.safeParse("nope").success).toBe(false);
    // Other metadata stays.
    expect(sensitive(z.string().meta({ description: "the card" })).meta()).toMatchObject({ description: "the card" });
  });

  it("redacts marked fields in objects, nullable and optional fields, arrays, records, unions and pipes", () => {
    const value = {
      id: "u1",
      email: "a@x.org",
      address: { street: "1 Main St", city: "Lyon" },
      previous: [{ street: "2 Old Rd", city: "Paris" }],
      cards: { main: "4242424242424242" },
      payment: { card: "4000000000000002" },
      note: "call after 6",
      extra: "kept as it is",
    };
    expect(redact(Schema, value)).toEqual({
      id: "u1",
      email: REDACTED,
      address: { street: REDACTED, city: "Lyon" },
      previous: [{ street: REDACTED, city: "Paris" }],
      cards: { main: REDACTED },
      payment: { card: REDACTED },
      note: REDACTED,
      extra: "kept as it is",
    });
    // The value given is not changed.
    expect(value.email).toBe("a@x.org");
  });

  it("leaves absent and null fields, and values of an unexpected shape, as they are", () => {
    expect(redact(Schema, { id: "u2", address: null, payment: { voucher: "V1" } })).toEqual({
      id: "u2",
      address: null,
      payment: { voucher: "V1" },
    });
    expect(redact(Schema, "not an object")).toBe("not an object");
    expect(redact(z.array(Address), [null, { street: "x", city: "y" }])).toEqual([
      null,
      { street: REDACTED, city: "y" },
    ]);
  });
});
