/** @module The payments service's own tables and their migrations. */
import type { Kysely } from "kysely";

export type PaymentStatus = "charged" | "declined" | "refunded" | "cancelled";

export interface PaymentsTables {
  payments: {
    /** The caller's paymentId (a saga step id): one payment, and at most one charge, per id. */
    id: string;
    /** Null (like every other detail) for a tombstone: a refund that arrived before any charge. */
    order_id: string | null;
    customer_id: string | null;
    /** Minor units of `currency`. */
    amount: number | null;
    /** Upper case ISO 4217. */
    currency: string | null;
    /** The card's last four digits: all the service ever keeps of a card number. */
    last4: string | null;
    status: PaymentStatus;
    /** The provider's reason for a decline. */
    failure_reason: string | null;
    created_at: string;
    updated_at: string;
  };
}

export const paymentsMigrations = {
  "001_payments": {
    // biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's types
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable("payments")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("order_id", "text")
        .addColumn("customer_id", "text")
        .addColumn("amount", "integer")
        .addColumn("currency", "text")
        .addColumn("last4", "text")
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("failure_reason", "text")
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .execute();
    },
  },
};
