/** @module In-process consumer group: a durable backlog whose members pull events when they have capacity. */
import { isPoison, toWire } from "../errors.js";
import { Queue } from "../queue.js";
import type { EventEnvelope } from "./envelope.js";
import type { DeadLetter, EventHandler, SubscribeOptions, Subscription } from "./transport.js";

interface Pending {
  readonly event: EventEnvelope;
  readonly attempt: number;
}

class Member implements Subscription {
  inFlight = 0;
  closing = false;
  private idle: (() => void) | undefined;

  constructor(
    private readonly group: ConsumerGroup,
    readonly opts: SubscribeOptions,
    readonly handler: EventHandler,
  ) {}

  get hasCapacity(): boolean {
    return !this.closing && this.inFlight < this.opts.maxInFlight;
  }

  settled(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.idle) this.idle();
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.group.leave(this);
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
  }
}

export interface GroupHooks {
  /** Makes the copy a handler receives (a JSON round trip in wire-faithful mode). */
  copy(event: EventEnvelope): EventEnvelope;
  deadLetter(letter: DeadLetter): void;
  /** Called when a broadcast group has lost its last member and should be forgotten. */
  dispose(group: ConsumerGroup): void;
}

/**
 * Mirrors a JetStream durable consumer: events wait in the backlog while no member can take them,
 * each goes to one member, a failure is redelivered after a backoff, and after `maxDeliveries`
 * failures the event is dead-lettered with its error.
 */
export class ConsumerGroup {
  private readonly backlog = new Queue<Pending>();
  private readonly members: Member[] = [];
  private next = 0;
  private scheduled = false;
  private retrying = 0;

  constructor(
    readonly name: string,
    readonly types: readonly string[],
    readonly broadcast: boolean,
    private readonly settings: Pick<SubscribeOptions, "maxDeliveries" | "backoffMs">,
    private readonly hooks: GroupHooks,
  ) {}

  get depth(): number {
    return this.backlog.length + this.retrying;
  }

  join(opts: SubscribeOptions, handler: EventHandler): Member {
    const member = new Member(this, opts, handler);
    this.members.push(member);
    this.schedule();
    return member;
  }

  leave(member: Member): void {
    const i = this.members.indexOf(member);
    if (i >= 0) this.members.splice(i, 1);
    if (this.broadcast && this.members.length === 0) this.hooks.dispose(this);
  }

  enqueue(event: EventEnvelope): void {
    this.backlog.push({ event, attempt: 1 });
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Delivery never runs inside the publisher's call stack.
    queueMicrotask(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.backlog.length > 0) {
      const member = this.pickMember();
      if (member === undefined) return;
      this.deliver(member, this.backlog.shift() as Pending);
    }
  }

  private pickMember(): Member | undefined {
    const n = this.members.length;
    for (let k = 0; k < n; k++) {
      const member = this.members[(this.next + k) % n] as Member;
      if (member.hasCapacity) {
        this.next = (this.next + k + 1) % n;
        return member;
      }
    }
    return undefined;
  }

  private deliver(member: Member, item: Pending): void {
    member.inFlight++;
    let result: Promise<void>;
    try {
      result = member.handler(this.hooks.copy(item.event), { attempt: item.attempt });
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      () => {
        member.settled();
        this.schedule();
      },
      (err: unknown) => {
        member.settled();
        this.failed(item, err);
        this.schedule();
      },
    );
  }

  private failed(item: Pending, err: unknown): void {
    const wire = toWire(err);
    if (item.attempt >= this.settings.maxDeliveries || isPoison(wire.status)) {
      this.hooks.deadLetter({
        event: item.event,
        group: this.name,
        attempts: item.attempt,
        error: wire,
        failedAt: new Date().toISOString(),
      });
      return;
    }
    this.retrying++;
    const retry = setTimeout(() => {
      this.retrying--;
      this.backlog.unshift({ event: item.event, attempt: item.attempt + 1 });
      this.schedule();
    }, this.settings.backoffMs(item.attempt));
    retry.unref();
  }
}
