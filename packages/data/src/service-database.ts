/** @module The Kysely a service's handlers see as `ctx.db`: transactions that outbox writes can join. */
import { AsyncLocalStorage } from "node:async_hooks";
import {
  type AccessMode,
  type IsolationLevel,
  Kysely,
  type KyselyConfig,
  type Transaction,
  type TransactionBuilder,
} from "kysely";

/** The transaction running in the current async context, and what waits for its commit. */
export interface UnitOfWork {
  readonly trx: Transaction<unknown>;
  /** Run once, after the transaction committed (never after a rollback). */
  readonly afterCommit: Array<() => void>;
  /** Set by whoever needed a once-per-transaction step (e.g. a NOTIFY). */
  notified: boolean;
}

/**
 * A Kysely whose `transaction()` remembers, for the duration of its callback, which transaction is
 * running: `ctx.emit` inside `ctx.db.transaction().execute(…)` then writes the event into the outbox in
 * that very transaction. A `transaction()` started inside another one joins it (one commit for both)
 * instead of failing, which lets helpers that open their own transaction be called from either place.
 */
export class ServiceDatabase<DB = unknown> extends Kysely<DB> {
  private readonly work = new UnitsOfWork();

  constructor(config: KyselyConfig) {
    super(config);
  }

  /** The transaction running in this async context on this database, if any. */
  current(): UnitOfWork | undefined {
    return this.work.getStore();
  }

  override transaction(): TransactionBuilder<DB> {
    const running = this.work.getStore();
    if (running !== undefined) return joining(running.trx as Transaction<DB>);
    return tracked(super.transaction(), this.work);
  }

  /** Runs `fn` in a transaction that is the current unit of work; `afterCommit` callbacks run after it. */
  run<T>(fn: (trx: Transaction<DB>, work: UnitOfWork) => Promise<T>): Promise<T> {
    const running = this.work.getStore();
    if (running !== undefined) return fn(running.trx as Transaction<DB>, running);
    return tracked(super.transaction(), this.work).execute((trx) => fn(trx, this.work.getStore() as UnitOfWork));
  }
}

/** The builder methods handlers use, as one shape both wrappers implement. */
interface BuilderLike<DB> {
  setAccessMode(mode: AccessMode): BuilderLike<DB>;
  setIsolationLevel(level: IsolationLevel): BuilderLike<DB>;
  execute<T>(callback: (trx: Transaction<DB>) => Promise<T>): Promise<T>;
}

/**
 * The unit of work of each async context, in an AsyncLocalStorage that is enabled only while a transaction
 * of this database runs. On Node 20 an enabled AsyncLocalStorage runs hooks on every promise the process
 * creates (about 8% of the CPU time of a gateway request that only reads); disabled when the last running
 * transaction ends, it costs nothing to the requests that open none. Nothing can be current then: a store
 * is only set inside run(), for the callback of a transaction still running.
 */
class UnitsOfWork {
  private readonly storage = new AsyncLocalStorage<UnitOfWork>();
  private running = 0;

  getStore(): UnitOfWork | undefined {
    return this.running === 0 ? undefined : this.storage.getStore();
  }

  async run<T>(work: UnitOfWork, fn: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await this.storage.run(work, fn);
    } finally {
      if (--this.running === 0) this.storage.disable();
    }
  }
}

function tracked<DB>(builder: TransactionBuilder<DB>, storage: UnitsOfWork): TransactionBuilder<DB> {
  const wrapper: BuilderLike<DB> = {
    setAccessMode: (mode) => tracked(builder.setAccessMode(mode), storage),
    setIsolationLevel: (level) => tracked(builder.setIsolationLevel(level), storage),
    async execute(callback) {
      let work: UnitOfWork | undefined;
      const result = await builder.execute((trx) => {
        work = { trx: trx as Transaction<unknown>, afterCommit: [], notified: false };
        return storage.run(work, () => callback(trx));
      });
      for (const fn of work?.afterCommit ?? []) fn();
      return result;
    },
  };
  return wrapper as unknown as TransactionBuilder<DB>;
}

/** A builder whose `execute` runs the callback in the transaction already open (no commit of its own). */
function joining<DB>(trx: Transaction<DB>): TransactionBuilder<DB> {
  const wrapper: BuilderLike<DB> = {
    setAccessMode: () => wrapper,
    setIsolationLevel: () => wrapper,
    execute: (callback) => callback(trx),
  };
  return wrapper as unknown as TransactionBuilder<DB>;
}

/**
 * The transaction as a handler's `ctx.db`: everything a Transaction does, and `transaction()` joins it
 * instead of throwing (Kysely refuses nested transactions).
 */
export function joinable<DB>(trx: Transaction<DB>): Transaction<DB> {
  return new Proxy(trx, {
    get(target, property) {
      if (property === "transaction") return () => joining(target);
      const value: unknown = Reflect.get(target, property, target);
      // Kysely's classes keep state in #private fields, which only the real object can reach.
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
