/** @module Shadow calls of route splits: bounded in number, each compared with the answer the client got. */
import { Readable, Transform } from "node:stream";
import type { Host } from "@flotilla/core";
import { ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import type { ComparedAnswer } from "./comparison-report.js";
import { jsonDifferences } from "./json-diff.js";
import { MAX_COMPARED_BYTES, parsedBody, type ShadowCaller, type ShadowRequest } from "./shadow-call.js";
import type { SplitRoute } from "./splits.js";
import type { TrafficEngine } from "./traffic-engine.js";

/** An answer compared by status only: its body was too long to read whole, or never fully sent. */
export const UNREAD = Symbol("unread");

/** One comparison to make: the split, who served, who shadows, and the served answer once it is out. */
export interface ShadowJob {
  readonly split: SplitRoute;
  readonly served: string;
  readonly shadow: string;
  readonly call: ShadowCaller;
  readonly request: Omit<ShadowRequest, "span">;
  readonly method: string;
  readonly answer: Promise<ComparedAnswer>;
}

export class Shadowing {
  private inFlight = 0;

  constructor(
    private readonly engine: TrafficEngine,
    private readonly maxInFlight: number,
    private readonly tracer: Tracer | undefined,
    private readonly log: Host["log"],
  ) {}

  /** Starts the shadow call unless `maxInFlight` run already (then it is dropped and counted). Never throws. */
  start(job: ShadowJob): void {
    const report = this.engine.report(job.split.name);
    if (this.inFlight >= this.maxInFlight) {
      report?.count("dropped");
      this.engine.compared(job.split.name, "dropped");
      return;
    }
    this.inFlight++;
    const span = this.startSpan(job);
    void this.run(job, span).finally(() => {
      this.inFlight--;
      span?.end();
    });
  }

  private async run(job: ShadowJob, span: Span | undefined): Promise<void> {
    const name = job.split.name;
    const report = this.engine.report(name);
    let shadow: ComparedAnswer;
    try {
      shadow = await job.call({ ...job.request, span });
    } catch (err) {
      span?.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      report?.count("shadow_failed");
      this.engine.compared(name, "shadow_failed");
      return;
    }
    span?.setAttribute("http.response.status_code", shadow.status);
    const served = await job.answer;
    const paths =
      served.status !== shadow.status || served.body === UNREAD || shadow.body === UNREAD || served.status >= 300
        ? []
        : jsonDifferences(served.body, shadow.body, job.split.ignore);
    if (served.status === shadow.status && paths.length === 0) {
      report?.count("equal");
      this.engine.compared(name, "equal");
      span?.setAttribute("flotilla.shadow.outcome", "equal");
      return;
    }
    span?.setAttribute("flotilla.shadow.outcome", "different");
    this.engine.compared(name, "different");
    this.log.debug({ split: name, paths, served: served.status, shadow: shadow.status }, "traffic: shadow differs");
    report?.different(
      { method: job.method, path: job.request.url, paths },
      { variant: job.served, answer: served },
      { variant: job.shadow, answer: shadow },
    );
  }

  private startSpan(job: ShadowJob): Span | undefined {
    if (this.tracer === undefined) return undefined;
    const server = job.request.ids.span;
    return this.tracer.startSpan(
      `shadow ${job.split.name} ${job.shadow}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: { "flotilla.split": job.split.name, "flotilla.variant": job.shadow, "flotilla.shadow": true },
      },
      server === undefined ? ROOT_CONTEXT : trace.setSpan(ROOT_CONTEXT, server),
    );
  }
}

/**
 * The answer a client gets, as fastify sends it (a string, a buffer or a stream): captured for the
 * comparison without holding the answer back. Resolves once it is out; `UNREAD` as the body when it was
 * too long or did not finish.
 */
export function captureAnswer(status: number, payload: unknown, settle: (answer: ComparedAnswer) => void): unknown {
  if (payload === undefined || payload === null) {
    settle({ status, body: undefined });
    return payload;
  }
  if (typeof payload === "string" || Buffer.isBuffer(payload)) {
    const size = typeof payload === "string" ? Buffer.byteLength(payload) : payload.length;
    settle({ status, body: size > MAX_COMPARED_BYTES ? UNREAD : parsedBody(payload.toString()) });
    return payload;
  }
  if (!(payload instanceof Readable)) {
    settle({ status, body: UNREAD });
    return payload;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const tee = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size <= MAX_COMPARED_BYTES) chunks.push(chunk);
      done(null, chunk);
    },
    flush(done) {
      settle({ status, body: size > MAX_COMPARED_BYTES ? UNREAD : parsedBody(Buffer.concat(chunks).toString("utf8")) });
      done();
    },
  });
  tee.once("close", () => settle({ status, body: UNREAD }));
  payload.once("error", (err) => tee.destroy(err));
  return payload.pipe(tee);
}
