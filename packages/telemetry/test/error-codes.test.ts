import { FlotillaCodes } from "@flotilla/core";
import { describe, expect, it } from "vitest";
import { codeLabel, OTHER_CODE } from "../src/error-codes.js";

describe("codeLabel()", () => {
  it("keeps catalogue, status and declared codes, and a bounded number of others", () => {
    const label = codeLabel(2);
    expect(label("made-up-1")).toBe("made-up-1");
    expect(label("made-up-2")).toBe("made-up-2");
    expect(label("made-up-3")).toBe(OTHER_CODE);
    expect(label("made-up-4")).toBe(OTHER_CODE);
    // Codes already kept stay kept; known ones are never folded, however many unknown ones came first.
    expect(label("made-up-1")).toBe("made-up-1");
    expect(label(FlotillaCodes.CIRCUIT_OPEN.code)).toBe(FlotillaCodes.CIRCUIT_OPEN.code);
    expect(label("INTERNAL")).toBe("INTERNAL");
    expect(label("PAYMENT_DECLINED", { PAYMENT_DECLINED: "FAILED_PRECONDITION" })).toBe("PAYMENT_DECLINED");
    expect(label("PAYMENT_DECLINED")).toBe(OTHER_CODE);
  });
});
