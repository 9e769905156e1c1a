/**
 * @module Charges and refunds, once per payment id however often (and however concurrently) they are
 * asked for.
 *
 * The provider is called before the payment is written, and that order is deliberate. Written first (as
 * "pending"), a crash before the provider answered would leave a row that still needs the provider's
 * answer anyway; called first, a crash between the provider's success and the write leaves no row, and
 * the retry (the saga delivers at least once) calls the provider again. That second call is harmless
 * because the provider is keyed by the payment id — as real providers accept idempotency keys — and
 * answers with the first charge instead of making another. Two racing charges with one id both reach the
 * provider (which charges once), then the primary key lets one write; the other reads that row and
 * answers from it.
 */
import type { Context } from "@flotilla/core";
import { isUniqueViolation } from "@flotilla/data";
import type { Kysely } from "kysely";
import { payments } from "./contract.js";
import { type CardProvider, type ChargeOutcome, ProviderUnavailableError } from "./provider.js";
import type { PaymentsTables } from "./schema.js";

export type PaymentsDb = Kysely<PaymentsTables>;
export type PaymentsWork = Pick<Context<PaymentsDb>, "db" | "emit" | "log">;
type PaymentRow = PaymentsTables["payments"];

export interface ChargeInput {
  paymentId: string;
  orderId: string;
  customerId: string;
  amount: number;
  currency: string;
  /** Passed to the provider and dropped: only its last four digits are kept, and it is never logged. */
  card: string;
}

export interface Charged {
  paymentId: string;
  status: "charged";
  last4: string;
}

/** See the module comment; a stored outcome is answered without calling the provider. */
export async function charge(work: PaymentsWork, provider: CardProvider, input: ChargeInput): Promise<Charged> {
  const { paymentId } = input;
  const stored = await findPayment(work.db, paymentId);
  if (stored !== undefined) return answer(work, provider, stored);
  let outcome: ChargeOutcome;
  try {
    outcome = await provider.charge({ paymentId, card: input.card, amount: input.amount, currency: input.currency });
  } catch (err) {
    if (!(err instanceof ProviderUnavailableError)) throw err;
    // Nothing was charged and nothing is stored: a retry with the same id starts afresh.
    throw payments.error(
      "PROVIDER_UNAVAILABLE",
      "the card provider did not answer; try again with the same paymentId",
      {
        paymentId,
      },
    );
  }
  const at = new Date().toISOString();
  const row: PaymentRow = {
    id: paymentId,
    order_id: input.orderId,
    customer_id: input.customerId,
    amount: input.amount,
    currency: input.currency.toUpperCase(),
    last4: outcome.last4,
    status: outcome.outcome,
    failure_reason: outcome.outcome === "declined" ? outcome.reason : null,
    created_at: at,
    updated_at: at,
  };
  try {
    await work.db.transaction().execute(async (trx) => {
      await trx.insertInto("payments").values(row).execute();
      if (outcome.outcome === "charged") {
        await work.emit(payments.PaymentCharged, {
          paymentId,
          orderId: input.orderId,
          amount: input.amount,
          currency: row.currency as string,
        });
      } else {
        await work.emit(payments.PaymentFailed, { paymentId, orderId: input.orderId, reason: outcome.reason });
      }
    });
  } catch (err) {
    // Another charge (or a refund's tombstone) with this id was written first: its row is the answer.
    if (!isUniqueViolation(err)) throw err;
    const winner = await findPayment(work.db, paymentId);
    if (winner === undefined) throw err;
    return answer(work, provider, winner);
  }
  work.log.info({ paymentId, orderId: input.orderId, status: row.status, last4: row.last4 }, "payment settled");
  return answer(work, provider, row);
}

/** The answer a stored payment gives to a charge, the first time and every time after. */
async function answer(work: PaymentsWork, provider: CardProvider, row: PaymentRow): Promise<Charged> {
  switch (row.status) {
    case "charged":
      return { paymentId: row.id, status: "charged", last4: row.last4 ?? "" };
    case "declined":
      throw payments.error("CARD_DECLINED", "the card was declined", {
        paymentId: row.id,
        reason: row.failure_reason ?? "declined",
      });
    default:
      // Refunded or cancelled before this charge: whatever a charge with this id may have taken at the
      // provider (this call's, or one that crashed before writing) is given back. A no-op otherwise.
      await provider.refund(row.id);
      work.log.info({ paymentId: row.id, status: row.status }, "charge refused: the payment was cancelled first");
      throw payments.error("PAYMENT_CANCELLED", `payment ${row.id} was ${row.status} before this charge`, {
        paymentId: row.id,
      });
  }
}

/**
 * Charged → refunded, once. The provider gives the money back first: a crash before the row says
 * "refunded" leaves a charged row the next refund settles, and the provider refunds a payment id once.
 * Anything other than a charge is not refunded (`refunded: false`: this call moved no money); an unknown
 * id leaves a tombstone (status cancelled) so a charge arriving after its own compensation is refused.
 * `charged` answers every call alike: whether the payment took money (given back now), which a checkout
 * whose charge got no answer learns only from its refund.
 */
export async function refund(
  work: PaymentsWork,
  provider: CardProvider,
  paymentId: string,
): Promise<{ refunded: boolean; charged: boolean }> {
  // A payment changes status at most twice (tombstone or charge, then refund): three reads settle it.
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = await findPayment(work.db, paymentId);
    if (row === undefined) {
      if (await insertTombstone(work.db, paymentId)) return { refunded: false, charged: false };
      continue; // a charge got there first: refund that
    }
    if (row.status !== "charged") return { refunded: false, charged: row.status === "refunded" };
    await provider.refund(paymentId);
    if (await markRefunded(work, row)) return { refunded: true, charged: true };
  }
  throw new Error(`payment ${paymentId} changed under every attempt to read it`);
}

function markRefunded(work: PaymentsWork, row: PaymentRow): Promise<boolean> {
  return work.db.transaction().execute(async (trx) => {
    const changed = await trx
      .updateTable("payments")
      .set({ status: "refunded", updated_at: new Date().toISOString() })
      .where("id", "=", row.id)
      .where("status", "=", "charged")
      .executeTakeFirst();
    if (Number(changed.numUpdatedRows) === 0) return false;
    await work.emit(payments.PaymentRefunded, {
      paymentId: row.id,
      orderId: row.order_id ?? "",
      amount: row.amount ?? 0,
      currency: row.currency ?? "",
    });
    return true;
  });
}

async function insertTombstone(db: PaymentsDb, id: string): Promise<boolean> {
  const at = new Date().toISOString();
  const inserted = await db
    .insertInto("payments")
    .values({
      id,
      order_id: null,
      customer_id: null,
      amount: null,
      currency: null,
      last4: null,
      status: "cancelled",
      failure_reason: null,
      created_at: at,
      updated_at: at,
    })
    .onConflict((oc) => oc.column("id").doNothing())
    .executeTakeFirst();
  return Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0;
}

function findPayment(db: PaymentsDb, id: string): Promise<PaymentRow | undefined> {
  return db.selectFrom("payments").selectAll().where("id", "=", id).executeTakeFirst();
}

/**
 * Charged (every payment that was ever charged, refunded since or not), refunded and net, in EUR: the
 * shop sells in EUR only, and amounts in another currency (none today) are left out rather than added
 * to euros.
 */
export async function summary(
  db: PaymentsDb,
): Promise<{ charged: number; refunded: number; net: number; currency: string }> {
  const rows = await db
    .selectFrom("payments")
    .select((eb) => ["status", eb.fn.sum<number>("amount").as("total")])
    .where("currency", "=", "EUR")
    .where("status", "in", ["charged", "refunded"])
    .groupBy("status")
    .execute();
  const total = (status: string) => Number(rows.find((r) => r.status === status)?.total ?? 0);
  const refunded = total("refunded");
  const charged = total("charged") + refunded;
  return { charged, refunded, net: charged - refunded, currency: "EUR" };
}
