/** How a checkout that turned back ends the order: rejected when no money moved, else cancelled. */
import type { SagaFailure } from "@flotilla/saga";
import { describe, expect, it } from "vitest";
import { endOf } from "./checkout.js";

const failure = (step: string, more: Partial<SagaFailure> = {}): SagaFailure => ({
  step,
  code: "SOME_CODE",
  message: "",
  ambiguous: false,
  ...more,
});

describe("the end of a checkout that turned back", () => {
  it("rejects the order when it failed before the card was charged", () => {
    expect(endOf(failure("reserve", { undone: {} }))).toBe("rejected");
    expect(endOf(failure("charge", { code: "CARD_DECLINED", undone: { reserve: { released: true } } }))).toBe(
      "rejected",
    );
  });

  it("cancels the order when it failed after the charge: the money went back", () => {
    const undone = { charge: { refunded: true, charged: true }, reserve: { released: true } };
    expect(endOf(failure("ship", { code: "DESTINATION_NOT_SERVED", undone }))).toBe("cancelled");
    expect(endOf(failure("commit", { code: "RESERVATION_RELEASED", undone }))).toBe("cancelled");
  });

  it("after a charge without an answer, goes by what its refund found", () => {
    const ambiguous = (charge: { refunded: boolean; charged: boolean }) =>
      endOf(failure("charge", { code: "FLOTILLA_SAGA_TIMEOUT", ambiguous: true, undone: { charge } }));
    expect(ambiguous({ refunded: false, charged: false })).toBe("rejected"); // it never took money
    expect(ambiguous({ refunded: true, charged: true })).toBe("cancelled"); // it did; the refund gave it back
    // The refund sent again after its first answer was lost: that one gave the money back.
    expect(ambiguous({ refunded: false, charged: true })).toBe("cancelled");
  });
});
