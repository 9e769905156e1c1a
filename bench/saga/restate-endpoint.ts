/**
 * @module The Restate peer's service endpoint, in a process of its own: the benchmark's four-step
 * workflow with compensation as a Restate service (`@restatedev/restate-sdk`) served over HTTP/2 on a
 * free loopback port. Each step is a journaled `ctx.run` doing the same trivial work as Flotilla's
 * participant; the last step of a failing saga throws a `TerminalError`, and the three steps done are
 * undone in reverse, each undo a `ctx.run` of its own. The handler answers how the saga ended and how
 * many steps it ran.
 *
 * Prints `{ready, port}` and serves until stdin closes.
 */
import * as restate from "@restatedev/restate-sdk";

import { reply, untilStopped } from "../nats/io.js";

const FORWARD = ["reserve", "charge", "ship"] as const;
const UNDO = { reserve: "release", charge: "refund", ship: "cancelShipment" } as const;

const benchSaga = restate.service({
  name: "BenchSaga",
  handlers: {
    run: async (ctx: restate.Context, input: { orderId: string; fail: boolean }) => {
      const done: (typeof FORWARD)[number][] = [];
      for (const name of FORWARD) {
        await ctx.run(name, async () => `ok:${input.orderId}:${name}`);
        done.push(name);
      }
      try {
        await ctx.run("commit", async () => {
          if (input.fail) throw new restate.TerminalError(`step ${input.orderId}:commit refused`);
          return `ok:${input.orderId}:commit`;
        });
        return { outcome: "completed", commands: 4 };
      } catch (err) {
        if (!(err instanceof restate.TerminalError)) throw err;
        for (const name of done.reverse()) await ctx.run(UNDO[name], async () => true);
        return { outcome: "compensated", commands: 7 };
      }
    },
  },
});

const port = await restate.serve({ services: [benchSaga], port: 0 });
reply({ ready: true, port, pid: process.pid });
await untilStopped();
process.exit(0);
