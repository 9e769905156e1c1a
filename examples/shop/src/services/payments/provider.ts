/**
 * @module A simulated card provider with a provider's test cards. It stands for an external system: one
 * per process, shared by every payments instance in it, and idempotent by payment id as real providers
 * are by idempotency key — a repeated charge returns the first outcome and moves no money again.
 */
import { intFromEnv } from "../env-int.js";

/** The test cards (see SHOP-API.md); any other card the contract accepts is charged. */
export const TEST_CARDS = {
  succeeds: "4242424242424242",
  declined: "4000000000000002",
  /** Fails with "unavailable" on the first attempt of a payment id, then succeeds: shows retries. */
  unavailableOnce: "4000000000000119",
} as const;

export interface ChargeRequest {
  /** The idempotency key. */
  paymentId: string;
  card: string;
  amount: number;
  currency: string;
}

export type ChargeOutcome =
  | { outcome: "charged"; last4: string }
  | { outcome: "declined"; last4: string; reason: string };

/** The provider did not answer: nothing was charged, and the same payment id may be tried again. */
export class ProviderUnavailableError extends Error {
  constructor(paymentId: string) {
    super(`the card provider did not answer for payment ${paymentId}`);
    this.name = "ProviderUnavailableError";
  }
}

export interface CardProvider {
  /** Charges once per payment id; a repeat returns the first outcome. Throws ProviderUnavailableError. */
  charge(request: ChargeRequest): Promise<ChargeOutcome>;
  /** Gives back what a payment id charged, once; nothing when it charged nothing. */
  refund(paymentId: string): Promise<void>;
}

interface Remembered {
  outcome: ChargeOutcome;
  amount: number;
  refunded: boolean;
}

export interface SimulatedProviderOptions {
  /** Delay of every call (default: SHOP_PAYMENT_LATENCY_MS, else 0), read at each call. */
  latencyMs?: number;
  /** Payment ids remembered, oldest forgotten first (100 000): a real provider keeps keys for a day or so. */
  remember?: number;
}

export class SimulatedCardProvider implements CardProvider {
  private readonly charges = new Map<string, Remembered>();
  private readonly failedOnce = new Set<string>();
  private readonly calls = new Map<string, number>();

  constructor(private readonly options: SimulatedProviderOptions = {}) {}

  async charge({ paymentId, card, amount }: ChargeRequest): Promise<ChargeOutcome> {
    this.count(paymentId);
    await this.latency();
    const known = this.charges.get(paymentId);
    if (known !== undefined) return known.outcome;
    if (card === TEST_CARDS.unavailableOnce && !this.failedOnce.has(paymentId)) {
      this.bounded(this.failedOnce).add(paymentId);
      throw new ProviderUnavailableError(paymentId);
    }
    const last4 = card.slice(-4);
    const outcome: ChargeOutcome =
      card === TEST_CARDS.declined
        ? { outcome: "declined", last4, reason: "card declined" }
        : { outcome: "charged", last4 };
    this.bounded(this.charges).set(paymentId, { outcome, amount, refunded: false });
    return outcome;
  }

  async refund(paymentId: string): Promise<void> {
    this.count(paymentId);
    await this.latency();
    const known = this.charges.get(paymentId);
    if (known?.outcome.outcome === "charged") known.refunded = true;
  }

  /** What the provider holds of a payment: its amount while charged and not refunded, else 0 (for tests). */
  held(paymentId: string): number {
    const known = this.charges.get(paymentId);
    return known?.outcome.outcome === "charged" && !known.refunded ? known.amount : 0;
  }

  /** Calls made for a payment id, charges and refunds (for tests: a stored answer calls nobody). */
  callsFor(paymentId: string): number {
    return this.calls.get(paymentId) ?? 0;
  }

  private count(paymentId: string): void {
    this.bounded(this.calls).set(paymentId, (this.calls.get(paymentId) ?? 0) + 1);
  }

  private latency(): Promise<void> {
    const ms = this.options.latencyMs ?? intFromEnv("SHOP_PAYMENT_LATENCY_MS", 0, { min: 0, max: 60_000 });
    return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
  }

  /** The collection, with its oldest entry dropped when full (Maps and Sets iterate in insertion order). */
  private bounded<T extends Map<string, unknown> | Set<string>>(collection: T): T {
    if (collection.size >= (this.options.remember ?? 100_000)) {
      const oldest = collection.keys().next().value;
      if (oldest !== undefined) collection.delete(oldest);
    }
    return collection;
  }
}
