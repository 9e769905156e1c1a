/** @module An app's `.proto`: its routed actions (and live stream) as the gateway serves them over gRPC. */
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import { generateProto } from "@flotilla/gateway";
import type { FlotillaApp } from "./app.js";

/** The proto package an app's gateway serves: the declared one, else `flotilla.<name>.v1`. */
export function appProtoPackage(app: FlotillaApp): string {
  return app.gateway?.grpc?.package ?? `flotilla.${app.name}.v1`;
}

/** The app's `.proto` text, numbered after `previous` (the committed file's text) when given. */
export function appProto(app: FlotillaApp, previous?: string): string {
  if (app.gateway === undefined) throw FlotillaError.of(FlotillaCodes.CONFIG, `${app.name} declares no gateway routes`);
  return generateProto({
    package: appProtoPackage(app),
    routes: app.gateway.routes,
    live: app.gateway.live !== undefined,
    ...(previous === undefined ? {} : { previous }),
  }).text;
}
