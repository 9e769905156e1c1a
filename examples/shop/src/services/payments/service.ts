/** @module The payments service: charges and refunds through a (simulated) card provider, once per payment id. */
import { defineService, type ServiceDefinition } from "@flotilla/core";
import { database } from "@flotilla/data";
import { charge, refund, summary } from "./charges.js";
import { payments } from "./contract.js";
import { type CardProvider, SimulatedCardProvider } from "./provider.js";
import { type PaymentsTables, paymentsMigrations } from "./schema.js";

export interface PaymentsOptions {
  /** The card provider (default: the process's simulated one, shared by every instance, as an external provider is). */
  provider?: CardProvider;
}

let simulated: SimulatedCardProvider | undefined;

/** The process's simulated provider, made on first use. */
export function simulatedProvider(): SimulatedCardProvider {
  simulated ??= new SimulatedCardProvider();
  return simulated;
}

/**
 * The service with its options; `paymentsService` uses the simulated provider. Actions need no caller:
 * the checkout saga calls them on its own behalf, with the customer named in the input.
 */
export function createPaymentsService(options: PaymentsOptions = {}): ServiceDefinition {
  const provider = () => options.provider ?? simulatedProvider();
  return defineService(payments, {
    // Calls no other service: a call to one is refused, and its NATS credentials allow none (docs/security.md).
    calls: [],
    database: database<PaymentsTables>({ migrations: paymentsMigrations }),
    actions: {
      charge: (input, ctx) => charge(ctx, provider(), input),
      refund: ({ paymentId }, ctx) => refund(ctx, provider(), paymentId),
      summary: (_input, ctx) => summary(ctx.db),
    },
  });
}

export const paymentsService = createPaymentsService();
