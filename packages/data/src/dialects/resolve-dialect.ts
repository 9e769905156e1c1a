/** @module Resolves a database dialect from a URL (`sqlite:.flotilla/data`, `postgres://…`) or passes one through. */
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import type { DatabaseDialect } from "./dialect.js";
import { postgresDialect } from "./postgres-dialect.js";
import { sqliteDialect } from "./sqlite-dialect.js";

export type DialectSpec = string | DatabaseDialect;

/** Builds a dialect from everything after `scheme:` (and an optional `//`), or from the whole URL. */
const schemes: Readonly<Record<string, (rest: string, url: string) => DatabaseDialect>> = {
  // `sqlite:` alone means the default data directory; the rest is a directory path, not a file.
  sqlite: (rest) => sqliteDialect(rest === "" ? {} : { dataDir: rest }),
  postgres: (_, url) => postgresDialect({ url }),
  postgresql: (_, url) => postgresDialect({ url }),
};

/**
 * `sqlite:<dir>`, `sqlite:///abs/dir` and `sqlite::memory:` give SQLite files (or in-memory databases)
 * per service; paths are not percent-decoded. `postgres://` and `postgresql://` give PostgreSQL (see
 * `postgresDialect` for `{service}` and `?isolation=schema`).
 */
export function resolveDialect(spec: DialectSpec): DatabaseDialect {
  if (typeof spec !== "string") return spec;
  const match = /^([a-z][a-z0-9+.-]*):(?:\/\/)?(.*)$/i.exec(spec);
  if (match === null) {
    throw FlotillaError.of(
      FlotillaCodes.CONFIG,
      `database "${spec}" is not a URL (try sqlite:.flotilla/data or sqlite::memory:)`,
    );
  }
  const scheme = (match[1] as string).toLowerCase();
  const factory = schemes[scheme];
  if (factory === undefined) {
    const known = Object.keys(schemes).join(", ");
    throw FlotillaError.of(FlotillaCodes.CONFIG, `no database dialect for scheme "${scheme}" (known: ${known})`);
  }
  return factory(match[2] as string, spec);
}
