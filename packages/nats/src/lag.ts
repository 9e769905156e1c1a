/** @module Consumer lag per durable group, for metrics: events stored but not yet acknowledged. */

import { unavailable } from "@flotilla/core/internal";
import { JetStreamApiCodes, type JetStreamManager } from "@nats-io/jetstream";
import type { EventMember } from "./event-consumer.js";
import { isApiError } from "./streams.js";

/** `num_pending + num_ack_pending` over the consumers of each durable group among `members`. */
export async function groupLag(jsm: JetStreamManager, members: Iterable<EventMember>): Promise<Record<string, number>> {
  const lag: Record<string, number> = {};
  const seen = new Set<string>();
  const reads: Promise<void>[] = [];
  for (const member of members) {
    if (!member.durable) continue;
    const group = member.group;
    lag[group] ??= 0;
    for (const { stream, name } of member.consumers()) {
      if (seen.has(`${stream} ${name}`)) continue; // members of one group share its consumers
      seen.add(`${stream} ${name}`);
      const read = jsm.consumers.info(stream, name).then(
        (info) => {
          lag[group] = (lag[group] ?? 0) + info.num_pending + info.num_ack_pending;
        },
        (err: unknown) => {
          // A consumer deleted by an operator holds nothing back; the member creates it again.
          const gone =
            isApiError(err, JetStreamApiCodes.ConsumerNotFound) || isApiError(err, JetStreamApiCodes.StreamNotFound);
          if (!gone) throw unavailable(`cannot read the lag of ${group}`, err);
        },
      );
      reads.push(read);
    }
  }
  await Promise.all(reads);
  return lag;
}
