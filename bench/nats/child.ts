/**
 * @module The line protocol between a distributed benchmark's orchestrator and its child processes:
 * each child prints JSON objects one per line on stdout and reads JSON lines on stdin. Closing a
 * child's stdin (also what happens when the orchestrator dies) tells it to stop.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

export type Message = Record<string, unknown>;

/** The orchestrator's handle on one child. */
export class Child {
  private readonly proc: ChildProcess;
  private readonly lines: Message[] = [];
  private waiting: { resolve: (m: Message) => void; reject: (e: Error) => void } | undefined;
  private exitCode: number | null | undefined;
  readonly exited: Promise<number | null>;

  constructor(
    readonly label: string,
    script: string,
    args: readonly string[],
    /** Extra node flags for this child, e.g. `--cpu-prof`. */
    nodeFlags: readonly string[] = [],
  ) {
    this.proc = spawn(process.execPath, [...nodeFlags, ...process.execArgv, script, ...args], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const rl = createInterface({ input: this.proc.stdout as NodeJS.ReadableStream });
    rl.on("line", (line) => {
      let msg: Message;
      try {
        msg = JSON.parse(line) as Message;
      } catch {
        process.stderr.write(`[${label}] ${line}\n`);
        return;
      }
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w.resolve(msg);
      } else this.lines.push(msg);
    });
    this.proc.stdin?.on("error", () => undefined); // the child may be gone already
    this.exited = new Promise((resolve) => {
      this.proc.on("exit", (code) => {
        this.exitCode = code;
        this.waiting?.reject(new Error(`${label} exited with ${code} before answering`));
        this.waiting = undefined;
        resolve(code);
      });
    });
  }

  /** The next message the child prints, or an error if it exits first or takes longer than `timeoutMs`. */
  next(timeoutMs = 120_000): Promise<Message> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.exitCode !== undefined) return Promise.reject(new Error(`${this.label} exited with ${this.exitCode}`));
    return new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`${this.label} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  /** Waits for a message that has `key`, failing on anything else. */
  async expect(key: string, timeoutMs?: number): Promise<Message> {
    const msg = await this.next(timeoutMs);
    if (!(key in msg)) throw new Error(`${this.label}: expected "${key}", got ${JSON.stringify(msg)}`);
    return msg;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  send(msg: Message): void {
    this.proc.stdin?.write(`${JSON.stringify(msg)}\n`);
  }

  /** Closes stdin: the child finishes, may print a last message, and exits. */
  end(): void {
    this.proc.stdin?.end();
  }

  /** Waits for the child to exit; kills it (SIGKILL) if it takes longer than `graceMs`. */
  async stop(graceMs = 15_000): Promise<number | null> {
    this.end();
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      this.exited,
      new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), graceMs))),
    ]);
    clearTimeout(timer);
    if (code === "timeout") {
      this.proc.kill("SIGKILL");
      return this.exited;
    }
    return code;
  }
}
