/**
 * @module Live message inspection: the `flow.messages` topic watches the app's declared events as they are
 * published, through a broadcast subscription of this process's transport (held while a client follows
 * the topic), and sends each one's type, id, time, source and data, redacted by its contract. At most
 * `MAX_PER_SECOND` messages go out each second; the others are counted (`dropped`), not queued.
 */
import { randomUUID } from "node:crypto";
import type { Subscription, Transport } from "@flotilla/core";
import type { PushTopic } from "@flotilla/dashboard";
import { type DeclaredEvent, shownData } from "./event-flow-catalog.js";

export const MAX_PER_SECOND = 20;

export interface LiveMessage {
  readonly type: string;
  readonly id: string;
  readonly time: string;
  readonly source: string;
  readonly data: unknown;
  /** Messages left out since the topic started, over the rate bound. */
  readonly dropped: number;
}

export function liveMessages(
  transport: Transport,
  declared: Map<string, DeclaredEvent>,
  log: { warn(obj: object, msg: string): void },
): PushTopic {
  return {
    name: "flow.messages",
    start(publish) {
      let stopped = false;
      let subscription: Subscription | undefined;
      let second = 0;
      let sent = 0;
      let dropped = 0;
      transport
        .subscribe(
          {
            types: [...declared.keys()],
            instance: `dashboard-flow-${randomUUID()}`,
            maxInFlight: 64,
            // A watcher never fails a delivery: nothing to redeliver or dead-letter.
            maxDeliveries: 1,
            backoffMs: () => 0,
          },
          async (event) => {
            const now = Math.floor(Date.now() / 1000);
            if (now !== second) {
              second = now;
              sent = 0;
            }
            if (sent >= MAX_PER_SECOND) {
              dropped++;
              return;
            }
            sent++;
            const message: LiveMessage = {
              type: event.type,
              id: event.id,
              time: event.time,
              source: event.source,
              data: shownData(declared, event.type, event.data),
              dropped,
            };
            publish(message);
          },
        )
        .then(
          (sub) => {
            if (stopped) void sub.close();
            else subscription = sub;
          },
          (err: unknown) => log.warn({ err }, "dashboard: live messages cannot be watched"),
        );
      return () => {
        stopped = true;
        void subscription?.close();
      };
    },
  };
}
