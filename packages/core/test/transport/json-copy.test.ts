import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { roundTrip } from "../../src/transport/codec.js";

/** What the network would make of a value, or the error JSON throws. */
function viaJson(value: unknown): { value: unknown } | { error: true } {
  try {
    const text = JSON.stringify(value);
    return { value: text === undefined ? undefined : JSON.parse(text) };
  } catch {
    return { error: true };
  }
}

function expectSameAsJson(value: unknown): void {
  const expected = viaJson(value);
  if ("error" in expected) {
    expect(() => roundTrip(value)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    return;
  }
  const copied = roundTrip(value);
  expect(copied).toStrictEqual(expected.value);
  // A copy, never the value itself (strings and other primitives aside).
  if (typeof value === "object" && value !== null) expect(copied).not.toBe(value);
}

describe("roundTrip (the wire-faithful copy)", () => {
  it("equals JSON.parse(JSON.stringify(value)) for any value", () => {
    const anything = fc.anything({
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
      withUnicodeString: true,
    });
    fc.assert(fc.property(anything, expectSameAsJson), { numRuns: 2_000 });
  });

  it("copies the cases JSON treats specially as JSON does", () => {
    for (const value of [
      -0,
      [-0, Number.NaN, Number.POSITIVE_INFINITY, undefined, () => 1, Symbol("s")],
      { a: undefined, b: () => 1, c: Symbol("s"), d: Number.NaN },
      JSON.parse('{"__proto__": {"polluted": true}}'),
      { toJSON: () => ({ replaced: true }) },
      { when: new Date(0) },
      "\ud800 lone surrogate",
      Object.create({ inherited: 1 }),
    ]) {
      expectSameAsJson(value);
    }
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it("refuses cycles and bigints as JSON does, and values past the size limit", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => roundTrip(cyclic)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => roundTrip({ n: 1n })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => roundTrip({ text: "x".repeat(2_000) }, 1_000)).toThrow(
      expect.objectContaining({ code: "FLOTILLA_PAYLOAD_TOO_LARGE" }),
    );
    // Within the limit as JSON, though over the copy's generous estimate: the exact count decides.
    expect(roundTrip({ text: "x".repeat(900) }, 1_000)).toEqual({ text: "x".repeat(900) });
    const deep = JSON.parse(`${"[".repeat(100)}1${"]".repeat(100)}`);
    expect(roundTrip(deep)).toStrictEqual(deep);
  });
});
