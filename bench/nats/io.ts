/**
 * @module A child process's side of the line protocol (see child.ts): JSON lines in on stdin, out on
 * stdout. Imported only by worker scripts: it reads stdin from the moment it is loaded.
 */
import { createInterface } from "node:readline";

export type Message = Record<string, unknown>;

const input = createInterface({ input: process.stdin });
const inbox: Message[] = [];
let waiter: ((m: Message | undefined) => void) | undefined;
let inputClosed = false;
input.on("line", (line) => {
  if (line.trim() === "") return;
  const msg = JSON.parse(line) as Message;
  if (waiter) {
    const w = waiter;
    waiter = undefined;
    w(msg);
  } else inbox.push(msg);
});
input.on("close", () => {
  inputClosed = true;
  waiter?.(undefined);
  waiter = undefined;
});

/** In a child: the next message from the orchestrator, or undefined once stdin is closed. */
export function receive(): Promise<Message | undefined> {
  const queued = inbox.shift();
  if (queued !== undefined) return Promise.resolve(queued);
  if (inputClosed) return Promise.resolve(undefined);
  return new Promise((resolve) => (waiter = resolve));
}

/** In a child: waits until the orchestrator closes stdin. */
export async function untilStopped(): Promise<void> {
  while ((await receive()) !== undefined) {
    // other messages are not expected here
  }
}

/** In a child: prints one message for the orchestrator. */
export function reply(msg: Message): void {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
}
