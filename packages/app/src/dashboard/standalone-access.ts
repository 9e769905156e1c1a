/**
 * @module Who may use a standalone dashboard's API (`flotilla dashboard`, `flotilla up`): the holder of a
 * random admin token, written with the dashboard's URL to `<data dir>/dashboard.json` (mode 0600) so only
 * the user who started it can read it; or anyone, when it runs open (development).
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FlotillaError } from "@flotilla/core";
import type { DashboardCaller } from "@flotilla/dashboard";

/** The file name of the access file in the dashboard's data dir. */
export const DASHBOARD_FILE = "dashboard.json";

/** What `<data dir>/dashboard.json` holds. */
export interface DashboardFile {
  /** The page, e.g. `http://127.0.0.1:9400/_flotilla`. */
  readonly url: string;
  /** The admin bearer token. */
  readonly token: string;
  readonly pid: number;
}

/** The caller a valid token stands for: the one admin of this dashboard. */
const ADMIN: DashboardCaller = { subject: "dashboard-admin", roles: ["admin"] };

/** A new admin token: 32 random bytes, base64url. */
export function newAdminToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Writes the access file, readable by its owner only (also when one was left behind with another mode). */
export function writeDashboardFile(dataDir: string, content: DashboardFile): string {
  const file = join(dataDir, DASHBOARD_FILE);
  rmSync(file, { force: true });
  writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** Reads a running dashboard's access file (for tools and tests beside it). */
export function readDashboardFile(dataDir: string): DashboardFile {
  return JSON.parse(readFileSync(join(dataDir, DASHBOARD_FILE), "utf8")) as DashboardFile;
}

/**
 * The access check: the `authorization: Bearer <token>` header must carry `token`, compared in constant
 * time; with no token (open) every request passes, with no caller.
 */
export function bearerAccess(
  token: string | undefined,
): (headers: { authorization?: string }) => DashboardCaller | undefined {
  if (token === undefined) return () => undefined;
  const wanted = Buffer.from(token);
  return ({ authorization }) => {
    if (authorization === undefined || !authorization.startsWith("Bearer ")) {
      throw new FlotillaError("UNAUTHENTICATED", "the dashboard needs its admin token (Authorization: Bearer …)");
    }
    const given = Buffer.from(authorization.slice("Bearer ".length).trim());
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
      throw new FlotillaError("UNAUTHENTICATED", "the admin token is not this dashboard's (see dashboard.json)");
    }
    return ADMIN;
  };
}
