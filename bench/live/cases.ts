/** @module The live fan-out benchmark's cases and the message every server pushes (see bench/README.md). */

/** Who holds the connections and pushes: the Flotilla gateway, or a bare Node server (the floor). */
export const LIVE_SERVERS = ["flotilla", "raw"] as const;
export type LiveServer = (typeof LIVE_SERVERS)[number];

export const LIVE_PROTOCOLS = ["sse", "websocket"] as const;
export type LiveProtocol = (typeof LIVE_PROTOCOLS)[number];

/**
 * How the Flotilla case reaches every connection with one event: `everyone`, an event whose audience is
 * every signed-in caller (one user per connection); `one-user`, every connection signed in as the same
 * user and the event marked for that user (the same fan-out loop over one user's connections).
 */
export const LIVE_AUDIENCES = ["everyone", "one-user"] as const;
export type LiveAudience = (typeof LIVE_AUDIENCES)[number];

export interface LiveCase {
  readonly server: LiveServer;
  readonly protocol: LiveProtocol;
}

/** The default cases, in the order they run: each Flotilla case followed by its floor. */
export const LIVE_CASES: readonly LiveCase[] = [
  { server: "flotilla", protocol: "sse" },
  { server: "raw", protocol: "sse" },
  { server: "flotilla", protocol: "websocket" },
  { server: "raw", protocol: "websocket" },
];

export function caseName(c: LiveCase): string {
  return `${c.server}-${c.protocol === "sse" ? "sse" : "ws"}`;
}

/** `flotilla-sse,raw-ws` → cases; unknown names are refused. */
export function parseCases(list: string): LiveCase[] {
  const all = LIVE_CASES.map((c) => [caseName(c), c] as const);
  return list
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((name) => {
      const found = all.find(([n]) => n === name);
      if (found === undefined)
        throw new Error(`unknown live case "${name}" (known: ${all.map(([n]) => n).join(", ")})`);
      return found[1];
    });
}

/** The data of each pushed event: its round, and when the server produced it (CLOCK_MONOTONIC, µs). */
export interface Broadcast {
  readonly round: number;
  readonly sentAtUs: number;
  /** A short text, so a message is the size of a small notification. */
  readonly text: string;
}

export const BROADCAST_TEXT = "Flash sale: 20% off every espresso machine until midnight.";

/** Now on CLOCK_MONOTONIC in µs: the same clock in every process of the machine. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Path of the live endpoint on both servers; the broadcast trigger is a POST beside it. */
export const LIVE_PATH = "/api/v1/live";
export const BROADCAST_PATH = "/api/v1/broadcast";
