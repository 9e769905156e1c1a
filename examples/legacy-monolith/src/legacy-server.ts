/** @module The legacy monolith's HTTP app: plain node:http, routes matched by hand, JSON in and out. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type Review, ReviewsDb } from "./reviews-db.js";

export interface LegacyOptions {
  /** The SQLite file of its reviews (created and seeded when missing). */
  dbFile: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
}

export interface LegacyMonolith {
  /** `http://host:port`. */
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Who is signed in, as the proxy in front of the monolith says it: the monolith never saw a password. */
export const USER_HEADER = "x-user-id";
const MAX_BODY = 64 * 1024;

const STORE_INFO = {
  name: "Flotilla Coffee & Tea",
  address: "1 Harbour Street, Lisbon",
  phone: "+351 21 000 0000",
  hours: { weekdays: "08:00-19:00", saturday: "09:00-17:00", sunday: "closed" },
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Starts the monolith; it serves until `close()`. */
export async function startLegacyMonolith(options: LegacyOptions): Promise<LegacyMonolith> {
  const db = new ReviewsDb(options.dbFile);
  const server = createServer((req, res) => {
    handle(db, req, res).catch((err: unknown) => {
      const e = err instanceof HttpError ? err : new HttpError(500, "INTERNAL", "internal error");
      send(res, e.status, { error: { code: e.code, message: e.message } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(":") ? `[${address}]` : address}:${port}`,
    server,
    close: async () => {
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      db.close();
    },
  };
}

async function handle(db: ReviewsDb, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://legacy");
  const parts = url.pathname.split("/").slice(1).map(decodeURIComponent);
  const method = req.method ?? "GET";
  if (parts.length === 1 && parts[0] === "health") return only(method, ["GET"], () => send(res, 200, { status: "ok" }));
  if (parts.length === 1 && parts[0] === "store-info") return only(method, ["GET"], () => send(res, 200, STORE_INFO));
  if (parts.length === 1 && parts[0] === "reviews") {
    return only(method, ["GET"], () => send(res, 200, exportPage(db, url.searchParams)));
  }
  if (parts.length === 2 && parts[0] === "reviews") {
    return only(method, ["GET"], () => {
      const review = db.byId(parts[1] as string);
      if (review === undefined) throw new HttpError(404, "REVIEW_NOT_FOUND", "no such review");
      send(res, 200, review);
    });
  }
  if (parts.length === 3 && parts[0] === "products" && parts[2] === "reviews") {
    const productId = parts[1] as string;
    if (method === "GET") {
      const items = db.forProduct(productId);
      const total = items.reduce((sum, r) => sum + r.rating, 0);
      const averageRating = items.length === 0 ? null : Math.round((total / items.length) * 10) / 10;
      return send(res, 200, { productId, items, count: items.length, averageRating });
    }
    if (method === "POST") {
      const author = req.headers[USER_HEADER];
      if (typeof author !== "string" || author === "") throw new HttpError(401, "UNAUTHENTICATED", "sign in to review");
      const { rating, body } = reviewInput(await readJson(req));
      const review = db.add(productId, author, rating, body);
      res.setHeader("location", `/reviews/${review.id}`);
      return send(res, 201, review);
    }
    return only(method, ["GET", "POST"], () => undefined);
  }
  throw new HttpError(404, "NOT_FOUND", "no such page");
}

/**
 * `GET /reviews?after=<n>&limit=<n>`: every review in id order, a page at a time, for a service taking the
 * reviews over (its backfill, then its sync). `after` is the numeric part of the last id seen (0 at first).
 */
function exportPage(db: ReviewsDb, query: URLSearchParams): { items: Review[]; lastId: number } {
  const after = wholeNumber(query.get("after") ?? "0", "after", Number.MAX_SAFE_INTEGER);
  const limit = wholeNumber(query.get("limit") ?? "100", "limit", 1000);
  if (limit === 0) throw new HttpError(400, "INVALID_QUERY", "limit must be from 1 to 1000");
  return { items: db.page(after, limit), lastId: db.lastId() };
}

function wholeNumber(text: string, name: string, max: number): number {
  const n = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n > max) {
    throw new HttpError(400, "INVALID_QUERY", `${name} must be a whole number up to ${max}`);
  }
  return n;
}

function only(method: string, allowed: string[], serve: () => void): void {
  if (!allowed.includes(method)) throw new HttpError(405, "METHOD_NOT_ALLOWED", `use ${allowed.join(" or ")}`);
  serve();
}

function reviewInput(value: unknown): { rating: number; body: string } {
  const { rating, body } = (value ?? {}) as { rating?: unknown; body?: unknown };
  if (typeof rating !== "number" || !Number.isInteger(rating) || rating < 1 || rating > 5) {
    throw new HttpError(400, "INVALID_REVIEW", "rating must be a whole number from 1 to 5");
  }
  if (typeof body !== "string" || body.trim() === "" || body.length > 2000) {
    throw new HttpError(400, "INVALID_REVIEW", "body must be text of 1 to 2000 characters");
  }
  return { rating, body: body.trim() };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  if (!String(req.headers["content-type"] ?? "").startsWith("application/json")) {
    throw new HttpError(415, "UNSUPPORTED_MEDIA_TYPE", "send application/json");
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, "BODY_TOO_LARGE", `a review is at most ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "MALFORMED_JSON", "the body is not JSON");
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}
