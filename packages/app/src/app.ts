/** @module An app: the services of one system and, optionally, the gateway routes in front of them. */
import { FlotillaCodes, FlotillaError, type Middleware, type ServiceDefinition } from "@flotilla/core";
import type { Policy, Route } from "@flotilla/gateway";

export interface FlotillaApp {
  readonly name: string;
  readonly services: readonly ServiceDefinition[];
  readonly gateway?: {
    readonly routes: readonly Route[];
    readonly policies?: readonly Policy[];
  };
  /** Middleware every host of this app runs, before what `runApp` adds (metrics, retries, balancing). */
  readonly middleware?: readonly Middleware[];
}

/**
 * Declares an app. `runApp(app, options)` runs it from any program; the `flotilla` command loads a
 * module whose default export (or `app` export) is one.
 */
export function defineApp(app: FlotillaApp): FlotillaApp {
  const names = new Set<string>();
  for (const service of app.services) {
    if (names.has(service.name)) {
      throw FlotillaError.of(FlotillaCodes.CONFIG, `${app.name}: service ${service.name} is listed twice`);
    }
    names.add(service.name);
  }
  return Object.freeze(app);
}
