/** @module Where an app's edge keys come from: FLOTILLA_EDGE_KEYS, else a file in the data directory made on first start. */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createEdgeKeysFile, type EdgeKeys, loadEdgeKeys } from "@flotilla/auth";

export const EDGE_KEYS_ENV = "FLOTILLA_EDGE_KEYS";

/** The path of the key file an app uses: the option, `FLOTILLA_EDGE_KEYS`, or `<dataDir>/edge-keys.json`. */
export function edgeKeysPath(dataDir: string, given?: string, env = process.env): string {
  return given ?? (env[EDGE_KEYS_ENV]?.trim() || join(dataDir, "edge-keys.json"));
}

/**
 * Loads the key file, creating it (one fresh Ed25519 key, mode 0600) when it does not exist yet. Two
 * processes starting at once on one path end up with the same key: creation never replaces a file,
 * and the one that loses the race loads the winner's.
 */
export async function openEdgeKeys(path: string): Promise<EdgeKeys> {
  if (existsSync(path)) return loadEdgeKeys(path);
  await mkdir(dirname(path), { recursive: true });
  try {
    return await createEdgeKeysFile(path);
  } catch (err) {
    if (existsSync(path)) return loadEdgeKeys(path);
    throw err;
  }
}
