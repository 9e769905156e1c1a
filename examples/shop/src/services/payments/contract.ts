/** @module The payments contract: charges and refunds through a (simulated) card provider. */
import { action, defineContract, event, sensitive } from "@flotilla/core";
import { z } from "zod";

/** Chosen by the caller (a saga step id): the same id again is the same payment, never a second charge. */
const PaymentId = z.string().min(1).max(200);

export const payments = defineContract({
  service: "payments",
  version: "1.0.0",
  actions: {
    charge: action({
      description:
        "Charges a card once per paymentId (test cards as in SHOP-API.md); a repeat answers as the first did",
      input: z.object({
        paymentId: PaymentId,
        orderId: z.string().min(1).max(100),
        customerId: z.string().min(1).max(200),
        /** Minor units of `currency`. */
        amount: z.number().int().positive(),
        currency: z.string().length(3),
        card: sensitive(z.string().regex(/^\d{12,19}$/)),
      }),
      output: z.object({ paymentId: z.string(), status: z.literal("charged"), last4: z.string() }),
      idempotent: true,
    }),
    refund: action({
      description:
        "Refunds a charge in full. Idempotent; an unknown id is remembered as cancelled, so a late charge with it is refused. `refunded`: this call gave money back; `charged`: the payment had taken money (given back now), the same answer every time",
      input: z.object({ paymentId: PaymentId }),
      output: z.object({ refunded: z.boolean(), charged: z.boolean() }),
      idempotent: true,
    }),
    summary: action({
      description: "Admin: charged, refunded and net over all payments",
      input: z.object({}),
      output: z.object({
        charged: z.number().int(),
        refunded: z.number().int(),
        net: z.number().int(),
        currency: z.string(),
      }),
      idempotent: true,
    }),
  },
  events: {
    PaymentCharged: event({
      schema: z.object({ paymentId: z.string(), orderId: z.string(), amount: z.number().int(), currency: z.string() }),
    }),
    PaymentFailed: event({
      schema: z.object({ paymentId: z.string(), orderId: z.string(), reason: z.string() }),
    }),
    PaymentRefunded: event({
      schema: z.object({ paymentId: z.string(), orderId: z.string(), amount: z.number().int(), currency: z.string() }),
    }),
  },
  errors: {
    /** Terminal: the provider declined the card. */
    CARD_DECLINED: "FAILED_PRECONDITION",
    /** Terminal: the payment was refunded or cancelled before this charge arrived. */
    PAYMENT_CANCELLED: "FAILED_PRECONDITION",
    /** Retryable: the provider did not answer; the same paymentId may be tried again. */
    PROVIDER_UNAVAILABLE: "UNAVAILABLE",
  },
});
