/** @module The gateway's certificate and key: read from files, checked as a pair, reloaded when the files change. */

import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync, type StatsListener, unwatchFile, watchFile } from "node:fs";
import { readFile } from "node:fs/promises";
import type { SecureContextOptions } from "node:tls";
import type { Host } from "@flotilla/core";

export interface TlsOptions {
  /** PEM certificate chain file (the server's certificate first). */
  certFile: string;
  /** PEM private key file of that certificate. */
  keyFile: string;
  /** How often the files' modification times are checked, in ms (1000); a change reloads both. */
  reloadCheckMs?: number;
  /** Told of every reload attempt; the app counts them as `flotilla_tls_reloads_total{result}`. */
  onReload?: (result: "ok" | "failed", error?: unknown) => void;
}

export interface KeyPair {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** The certificate's serial number (hex), for logs. */
  readonly serial: string;
}

/** Reads both files and checks they are a certificate and the key of that certificate; throws otherwise. */
export async function loadKeyPair(opts: Pick<TlsOptions, "certFile" | "keyFile">): Promise<KeyPair> {
  const [cert, key] = await Promise.all([readFile(opts.certFile), readFile(opts.keyFile)]);
  return checkPair(cert, key, opts);
}

/** The same, synchronously: for start-up, where a pair that does not load stops the gateway from starting. */
export function loadKeyPairSync(opts: Pick<TlsOptions, "certFile" | "keyFile">): KeyPair {
  return checkPair(readFileSync(opts.certFile), readFileSync(opts.keyFile), opts);
}

function checkPair(cert: Buffer, key: Buffer, opts: Pick<TlsOptions, "certFile" | "keyFile">): KeyPair {
  const x509 = new X509Certificate(cert);
  if (!x509.checkPrivateKey(createPrivateKey(key))) {
    throw new Error(`the key in ${opts.keyFile} is not the key of the certificate in ${opts.certFile}`);
  }
  return { cert, key, serial: x509.serialNumber };
}

/** What the TLS server needs to swap its certificate for new connections. */
export interface SecureContextTarget {
  setSecureContext(options: SecureContextOptions): void;
}

/** Changes close together (a certificate, then its key) are reloaded once, after they settle. */
const SETTLE_MS = 100;

/**
 * Watches the files and swaps the server's certificate for new connections when they change; connections
 * already open keep the certificate they were made with. A pair that does not load (unreadable, not PEM,
 * a key of another certificate) is refused: the server keeps the pair it has, and the next change retries.
 * Polls modification times rather than using inotify: renames (Kubernetes secret volumes swap a symlink)
 * and files on network volumes are seen the same way.
 */
export function watchKeyPair(
  server: SecureContextTarget,
  opts: TlsOptions,
  current: KeyPair,
  log: Host["log"],
): { close(): void } {
  let serial = current.serial;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const reload = async (): Promise<void> => {
    try {
      const pair = await loadKeyPair(opts);
      if (closed) return;
      server.setSecureContext({ cert: pair.cert, key: pair.key });
      log.info({ serial: pair.serial, previous_serial: serial }, "TLS certificate reloaded");
      serial = pair.serial;
      opts.onReload?.("ok");
    } catch (err) {
      if (closed) return;
      log.error(
        { err, cert_file: opts.certFile, key_file: opts.keyFile, serial },
        "TLS certificate refused, keeping the current one",
      );
      opts.onReload?.("failed", err);
    }
  };
  const changed: StatsListener = (now, before) => {
    if (now.mtimeMs === before.mtimeMs && now.ino === before.ino && now.size === before.size) return;
    clearTimeout(timer);
    timer = setTimeout(() => void reload(), SETTLE_MS);
  };
  const options = { interval: opts.reloadCheckMs ?? 1_000, persistent: false };
  watchFile(opts.certFile, options, changed);
  watchFile(opts.keyFile, options, changed);
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      unwatchFile(opts.certFile, changed);
      unwatchFile(opts.keyFile, changed);
    },
  };
}
