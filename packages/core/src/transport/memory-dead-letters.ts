/** @module Dead letters kept in memory, for the in-process transport without a journal. */
import { FlotillaError } from "../errors.js";
import { parseDeadLetterId } from "./dead-letter-id.js";
import type { DeadLetter, DeadLetterStore, StoredDeadLetter } from "./transport.js";

/** Lost with the process, like everything the in-process transport holds without a journal. */
export class MemoryDeadLetterStore implements DeadLetterStore {
  private readonly letters = new Map<string, StoredDeadLetter>();
  private lastId = 0;

  /** @param redeliver publishes the letter's event again, to its group only. */
  constructor(private readonly redeliver: (letter: DeadLetter) => Promise<void>) {}

  add(letter: DeadLetter): void {
    const id = String(++this.lastId);
    this.letters.set(id, { ...letter, id });
  }

  async list(group?: string): Promise<StoredDeadLetter[]> {
    const all = [...this.letters.values()];
    return group === undefined ? all : all.filter((l) => l.group === group);
  }

  async get(id: string): Promise<StoredDeadLetter | undefined> {
    return this.letters.get(String(parseDeadLetterId(id)));
  }

  async retry(id: string): Promise<void> {
    await this.redeliver(this.required(id));
    this.letters.delete(id);
  }

  async drop(id: string): Promise<void> {
    this.required(id);
    this.letters.delete(id);
  }

  private required(id: string): StoredDeadLetter {
    const letter = this.letters.get(String(parseDeadLetterId(id)));
    if (letter === undefined) throw new FlotillaError("NOT_FOUND", `no dead letter ${id}`, { details: { id } });
    return letter;
  }
}
