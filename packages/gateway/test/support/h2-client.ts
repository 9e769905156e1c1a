/** @module An HTTP/2 client for the gateway's TLS tests: a session trusting a test CA, and one request's answer. */
import { type ClientHttp2Session, connect as h2connect, type OutgoingHttpHeaders } from "node:http2";

export interface H2Answer {
  status: number;
  body: string;
  /** Set when the stream failed (a reset, the session gone); status and body hold what came before. */
  error?: string;
}

/** A session to `url` trusting `ca`, once connected. */
export function connectH2(url: string, ca: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = h2connect(url, { ca });
    session.once("connect", () => resolve(session));
    session.once("error", reject);
  });
}

/** One request on `session` (a body ends the stream after it); resolves with the answer, or what came of it. */
export function h2request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: string): Promise<H2Answer> {
  return new Promise((resolve) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let status = 0;
    let text = "";
    stream.on("response", (h) => {
      status = Number(h[":status"]);
    });
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      text += chunk;
    });
    stream.on("end", () => resolve({ status, body: text }));
    stream.on("error", (err: Error & { code?: string }) =>
      resolve({ status, body: text, error: err.code ?? err.message }),
    );
    if (body !== undefined) stream.end(body);
  });
}
