/** @module Talking to a running supervisor's control server (what `flotilla ps/scale/restart` do). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FlotillaError, fromWire } from "@flotilla/core";
import { CONTROL_FILE, type ControlFile } from "./control-server.js";
import { SupervisorCodes } from "./errors.js";

/** Calls the control API of the supervisor whose data dir is `dataDir`; throws FlotillaErrors it answers. */
export async function callSupervisor(
  dataDir: string,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
): Promise<unknown> {
  const control = readControlFile(dataDir);
  const notRunning = () =>
    FlotillaError.of(
      SupervisorCodes.NOT_RUNNING,
      `no supervisor answers at ${control.url} (from ${join(dataDir, CONTROL_FILE)}); it may have been killed: start one with flotilla up`,
    );
  const res = await fetch(`${control.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${control.token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }).catch(() => {
    throw notRunning();
  });
  const answer = (await res.json().catch(() => undefined)) as { error?: unknown } | undefined;
  if (!res.ok) throw answer?.error === undefined ? notRunning() : fromWire(answer.error);
  return answer;
}

/** The address and token of the supervisor whose data dir is `dataDir` (NOT_RUNNING without its file). */
export function readControlFile(dataDir: string): ControlFile {
  const file = join(dataDir, CONTROL_FILE);
  try {
    return JSON.parse(readFileSync(file, "utf8")) as ControlFile;
  } catch {
    throw FlotillaError.of(
      SupervisorCodes.NOT_RUNNING,
      `no supervisor runs for data dir ${dataDir} (no readable ${file}): start one with flotilla up --data-dir ${dataDir}`,
    );
  }
}
