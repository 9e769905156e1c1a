/** The builder's types: a step's input is checked against what the input and earlier steps produced. */
import { describe, expect, it } from "vitest";
import { defineSaga } from "../src/index.js";
import { TripInput, travel } from "./support/trip.js";

describe("saga types", () => {
  it("accepts inputs built from earlier outputs and refuses others at compile time", () => {
    const saga = defineSaga({ name: "typed", version: 1, input: TripInput })
      .step("flight", {
        action: travel.bookFlight,
        input: ({ input }, step) => ({ bookingId: step.id, from: input.from, to: input.to }),
      })
      .step("hotel", {
        action: travel.bookHotel,
        // `flight` is known here, typed by bookFlight's output.
        input: ({ flight, input }, step) => ({ bookingId: step.id, city: flight.flight, nights: input.nights }),
      });
    defineSaga({ name: "typed", version: 1, input: TripInput }).step("hotel", {
      action: travel.bookHotel,
      // @ts-expect-error `flight` has not run yet: no such state.
      input: ({ flight }, step) => ({ bookingId: step.id, city: flight.flight, nights: 1 }),
    });
    defineSaga({ name: "typed", version: 1, input: TripInput }).step("pay", {
      action: travel.pay,
      // @ts-expect-error `amount` must be a number, as pay's contract says.
      input: ({ input }, step) => ({ paymentId: step.id, amount: input.from }),
    });
    // A step name used twice is refused by the compiler and, for untyped callers, at run time.
    expect(() =>
      // @ts-expect-error the name `flight` is taken.
      saga.step("flight", { action: travel.pay, input: (_s, step) => ({ paymentId: step.id, amount: 1 }) }),
    ).toThrow(/step "flight" twice/);
    expect(saga.build().steps.map((s) => s.name)).toEqual(["flight", "hotel"]);
  });
});
