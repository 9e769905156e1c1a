/** @module An app: the services of one system and, optionally, the gateway routes in front of them. */
import type { Middleware, ServiceDefinition } from "@flotilla/core";
import type { Policy, Route } from "@flotilla/gateway";

export interface FlotillaApp {
  readonly name: string;
  readonly services: readonly ServiceDefinition[];
  readonly gateway?: {
    readonly routes: readonly Route[];
    readonly policies?: readonly Policy[];
  };
  /** Middleware every host of this app runs (tracing and metrics are added by the runner). */
  readonly middleware?: readonly Middleware[];
}

/** Declares an app; the CLI loads a module whose default export (or `app` export) is one. */
export function defineApp(app: FlotillaApp): FlotillaApp {
  const names = new Set<string>();
  for (const service of app.services) {
    if (names.has(service.name)) throw new Error(`${app.name}: service ${service.name} is listed twice`);
    names.add(service.name);
  }
  return Object.freeze(app);
}
