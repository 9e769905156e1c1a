/**
 * @module The admin calls the strangler script makes over HTTP: the traffic rules and comparison reports
 * of the gateway's splits (docs/traffic.md), and the reviews sync's status (docs/strangler.md).
 */

export type Headers = Record<string, string>;

/** The rules of one split, as `PUT /_flotilla/traffic/:split` takes them. */
export interface SplitRules {
  weights: Record<string, number>;
  sticky?: "user" | "none";
  shadow?: { variant: string; percent: number };
}

/** A gateway's comparison report of one split's shadow calls. */
export interface ComparisonReport {
  compared: number;
  equal: number;
  different: number;
  shadowFailed: number;
  dropped: number;
  /** The last differences: path, statuses, differing JSON paths. */
  differences: unknown[];
}

/** The reviews sync's status (`GET /api/v1/admin/reviews/sync`). */
export interface SyncStatus {
  writesTo: "legacy" | "service";
  ownReviews: number;
  enabled: boolean;
  lastId: number;
  legacyLastId: number;
  behind: number;
  imported: number;
  conflicts: number;
  lastError: string | null;
}

/** An admin's view of a running shop: one signed-in admin, one gateway URL. */
export class ShopAdmin {
  constructor(
    readonly url: string,
    private readonly auth: Headers,
  ) {}

  /** Signs in with a password and answers the bearer header. */
  static async signIn(url: string, email: string, password: string): Promise<Headers> {
    const res = await fetch(`${url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password }),
    });
    if (res.status !== 200) throw new Error(`sign-in as ${email}: ${res.status} ${await res.text()}`);
    return { authorization: `Bearer ${((await res.json()) as { token: string }).token}` };
  }

  setRules(split: string, rules: SplitRules): Promise<unknown> {
    return this.send("PUT", `/_flotilla/traffic/${split}`, rules);
  }

  report(split: string): Promise<ComparisonReport> {
    return this.send("GET", `/_flotilla/traffic/${split}/report`) as Promise<ComparisonReport>;
  }

  resetReport(split: string): Promise<unknown> {
    return this.send("DELETE", `/_flotilla/traffic/${split}/report`);
  }

  syncStatus(): Promise<SyncStatus> {
    return this.send("GET", "/api/v1/admin/reviews/sync") as Promise<SyncStatus>;
  }

  /** A sync pass now: every legacy review not copied yet. */
  syncNow(): Promise<SyncStatus> {
    return this.send("POST", "/api/v1/admin/reviews/sync", {}) as Promise<SyncStatus>;
  }

  /** Moves the reviews' writes (to the service: after a last sync pass, which then stops). */
  setWrites(to: "legacy" | "service"): Promise<SyncStatus> {
    return this.send("PUT", "/api/v1/admin/reviews/writes", { to }) as Promise<SyncStatus>;
  }

  private async send(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { ...this.auth, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text === "" ? undefined : JSON.parse(text);
  }
}
