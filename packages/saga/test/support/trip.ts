/**
 * A small world for saga tests: a `travel` service whose actions book and cancel things (keyed by step
 * id, remembering every effect), and a `trips` service that orchestrates them.
 */
import { action, type Context, defineContract, defineService, FlotillaError } from "@flotilla/core";
import { database, type Kysely } from "@flotilla/data";
import { z } from "zod";
import { defineSaga, type SagaDefinition, type SagaFailure, type StepInfo, sagaOrchestrator } from "../../src/index.js";

export const travel = defineContract({
  service: "travel",
  actions: {
    bookFlight: action({
      input: z.object({ bookingId: z.string(), from: z.string(), to: z.string() }),
      output: z.object({ flight: z.string() }),
      idempotent: true,
    }),
    cancelFlight: action({ input: z.object({ bookingId: z.string() }), output: z.object({ cancelled: z.boolean() }) }),
    bookHotel: action({
      input: z.object({ bookingId: z.string(), city: z.string(), nights: z.number().int() }),
      output: z.object({ hotel: z.string() }),
      idempotent: true,
    }),
    cancelHotel: action({ input: z.object({ bookingId: z.string() }), output: z.object({ cancelled: z.boolean() }) }),
    pay: action({
      input: z.object({ paymentId: z.string(), amount: z.number().int() }),
      output: z.object({ receipt: z.string() }),
    }),
  },
  errors: { CITY_FULL: "FAILED_PRECONDITION", NO_FUNDS: "FAILED_PRECONDITION", BANK_BUSY: "UNAVAILABLE" },
});

/** What the travel service did, and how to make it misbehave. */
export class TravelDesk {
  readonly flights = new Map<string, string>();
  readonly hotels = new Map<string, string>();
  readonly cancelled: string[] = [];
  readonly payments = new Map<string, number>();
  readonly calls: string[] = [];
  /** Failures to answer with, per action, consumed one per call. */
  readonly failNext = new Map<string, FlotillaError[]>();
  /** Milliseconds an action takes. */
  readonly delayMs = new Map<string, number>();
  /** Payments (by payment id) taken that answer UNAVAILABLE anyway this many more times: a lost answer. */
  readonly paidButUnanswered = new Map<string, number>();

  private async misbehave(name: string): Promise<void> {
    this.calls.push(name);
    const delay = this.delayMs.get(name);
    if (delay !== undefined) await new Promise((r) => setTimeout(r, delay));
    const failure = this.failNext.get(name)?.shift();
    if (failure !== undefined) throw failure;
  }

  service() {
    return defineService(travel, {
      actions: {
        bookFlight: async ({ bookingId, from, to }) => {
          await this.misbehave("bookFlight");
          if (!this.flights.has(bookingId)) this.flights.set(bookingId, `${from}-${to}`);
          return { flight: this.flights.get(bookingId) as string };
        },
        cancelFlight: async ({ bookingId }) => {
          await this.misbehave("cancelFlight");
          this.cancelled.push(`flight:${bookingId}`);
          return { cancelled: this.flights.delete(bookingId) };
        },
        bookHotel: async ({ bookingId, city, nights }) => {
          await this.misbehave("bookHotel");
          if (city === "Atlantis") throw travel.error("CITY_FULL", "no rooms in Atlantis");
          if (!this.hotels.has(bookingId)) this.hotels.set(bookingId, `${city}x${nights}`);
          return { hotel: this.hotels.get(bookingId) as string };
        },
        cancelHotel: async ({ bookingId }) => {
          await this.misbehave("cancelHotel");
          this.cancelled.push(`hotel:${bookingId}`);
          return { cancelled: this.hotels.delete(bookingId) };
        },
        pay: async ({ paymentId, amount }) => {
          await this.misbehave("pay");
          if (amount > 1000) throw travel.error("NO_FUNDS", "the card does not cover it");
          this.payments.set(paymentId, amount);
          const unanswered = this.paidButUnanswered.get(paymentId) ?? 0;
          if (unanswered > 0) {
            this.paidButUnanswered.set(paymentId, unanswered - 1);
            await new Promise((r) => setTimeout(r, 50)); // the answer takes its time, then is lost
            throw new FlotillaError("UNAVAILABLE", "the answer was lost");
          }
          return { receipt: `r-${paymentId}` };
        },
      },
    });
  }
}

export const TripInput = z.object({
  tripId: z.string(),
  from: z.string(),
  to: z.string(),
  nights: z.number().int(),
  amount: z.number().int(),
});
export type TripInput = z.infer<typeof TripInput>;

export interface TripTables {
  trips: { id: string; status: string; detail: string | null };
}

/** Steps both versions take alike. */
const bookFlight = {
  action: travel.bookFlight,
  input: ({ input }: { input: TripInput }, step: StepInfo) => ({ bookingId: step.id, from: input.from, to: input.to }),
  compensate: { action: travel.cancelFlight, input: (_state: unknown, step: StepInfo) => ({ bookingId: step.id }) },
};
const payFor = {
  action: travel.pay,
  input: ({ input }: { input: TripInput }, step: StepInfo) => ({ paymentId: step.id, amount: input.amount }),
};

async function markBooked(state: { input: TripInput; payment: { receipt: string } }, ctx: Context<Kysely<TripTables>>) {
  await ctx.db
    .updateTable("trips")
    .set({ status: "booked", detail: state.payment.receipt })
    .where("id", "=", state.input.tripId)
    .execute();
}

export function tripSagaV1(options: { timeoutMs?: number; turnedBack?: (failure: SagaFailure) => void } = {}) {
  const { turnedBack, ...sagaOptions } = options;
  return defineSaga({
    name: "trip",
    version: 1,
    input: TripInput,
    ...sagaOptions,
    retry: { initialDelayMs: 5, maxDelayMs: 20, maxAttempts: 4 },
  })
    .step("flight", bookFlight)
    .step("hotel", {
      action: travel.bookHotel,
      input: ({ input, flight }, step) => ({
        bookingId: step.id,
        city: flight.flight.split("-")[1] ?? input.to,
        nights: input.nights,
      }),
      compensate: { action: travel.cancelHotel, input: (_state, step) => ({ bookingId: step.id }) },
    })
    .step("payment", payFor)
    .hooks<Kysely<TripTables>>({
      onCompleted: markBooked,
      async onCompensated(state, failure, ctx) {
        turnedBack?.(failure);
        await ctx.db
          .updateTable("trips")
          .set({ status: "failed", detail: failure.code })
          .where("id", "=", state.input.tripId)
          .execute();
      },
    })
    .build();
}

/** Version 2 books the hotel before the flight. */
export function tripSagaV2() {
  return defineSaga({
    name: "trip",
    version: 2,
    input: TripInput,
    retry: { initialDelayMs: 5, maxDelayMs: 20, maxAttempts: 4 },
  })
    .step("hotel", {
      action: travel.bookHotel,
      input: ({ input }, step) => ({ bookingId: step.id, city: input.to, nights: input.nights }),
      compensate: { action: travel.cancelHotel, input: (_state, step) => ({ bookingId: step.id }) },
    })
    .step("flight", bookFlight)
    .step("payment", payFor)
    .hooks<Kysely<TripTables>>({
      onCompleted: markBooked,
    })
    .build();
}

export const trips = defineContract({
  service: "trips",
  actions: {
    plan: action({ input: TripInput, output: z.object({ started: z.boolean() }) }),
    status: action({
      input: z.object({ id: z.string() }),
      output: z.object({ status: z.string(), detail: z.string().nullable() }),
    }),
    saga: action({ input: z.object({ id: z.string() }), output: z.any() }),
    sagas: action({ input: z.object({ status: z.string().optional() }), output: z.any() }),
  },
});

/** The orchestrating service, running the given definitions; new trips start on `current`. */
export function tripsService(definitions: readonly SagaDefinition[], current: SagaDefinition<TripInput>) {
  const sagas = sagaOrchestrator({ sagas: definitions });
  const service = defineService(trips, {
    database: database<TripTables>({
      migrations: {
        "001_trips": {
          // biome-ignore lint/suspicious/noExplicitAny: migrations describe history
          async up(db: Kysely<any>) {
            await db.schema
              .createTable("trips")
              .addColumn("id", "text", (c) => c.primaryKey())
              .addColumn("status", "text")
              .addColumn("detail", "text")
              .execute();
          },
        },
      },
    }),
    orchestrators: [sagas],
    actions: {
      async plan(input, ctx) {
        return ctx.db.transaction().execute(async (trx) => {
          await trx
            .insertInto("trips")
            .values({ id: input.tripId, status: "planned", detail: null })
            .onConflict((oc) => oc.doNothing())
            .execute();
          return sagas.start(ctx, current, input, { id: input.tripId });
        });
      },
      saga: ({ id }, ctx) => sagas.get(ctx.db, id),
      sagas: ({ status }, ctx) => sagas.list(ctx.db, status === undefined ? {} : { status: status as never }),
      async status({ id }, ctx) {
        const row = await ctx.db
          .selectFrom("trips")
          .select(["status", "detail"])
          .where("id", "=", id)
          .executeTakeFirstOrThrow();
        return row;
      },
    },
  });
  return { service, sagas };
}

export { FlotillaError };
