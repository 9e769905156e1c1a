/** @module Deprecated routes: the `Deprecation` (RFC 9745), `Sunset` (RFC 8594) and `Link` headers they answer with. */
import { FlotillaCodes, FlotillaError } from "@flotilla/core";

export interface DeprecationSpec {
  /** When the route became deprecated (an ISO-8601 date or a Date). */
  since: string | Date;
  /** When it stops answering (an ISO-8601 date or a Date); absent: not announced. */
  sunset?: string | Date;
  /** A page explaining the deprecation and what replaces the route. */
  link?: string;
}

/** A route's deprecation, with the headers every answer of the route carries. */
export interface Deprecation {
  readonly since: Date;
  readonly sunset: Date | undefined;
  readonly link: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
}

/** Checks a deprecation (FLOTILLA_CONFIG naming `where` when a date does not parse or the sunset precedes it). */
export function deprecation(spec: DeprecationSpec, where: string): Deprecation {
  const since = dateOf(spec.since, `${where}: deprecated.since`);
  const sunset = spec.sunset === undefined ? undefined : dateOf(spec.sunset, `${where}: deprecated.sunset`);
  if (sunset !== undefined && sunset < since) throw config(`${where}: deprecated.sunset comes before deprecated.since`);
  if (spec.link !== undefined && !URL.canParse(spec.link, "http://x"))
    throw config(`${where}: deprecated.link is not a URL`);
  if (spec.link !== undefined && /[<>\s]/.test(spec.link))
    throw config(`${where}: deprecated.link may not hold <, > or spaces`);
  const headers: Record<string, string> = { deprecation: `@${Math.floor(since.getTime() / 1000)}` };
  if (sunset !== undefined) headers.sunset = sunset.toUTCString();
  if (spec.link !== undefined) headers.link = `<${spec.link}>; rel="deprecation"`;
  return Object.freeze({ since, sunset, link: spec.link, headers: Object.freeze(headers) });
}

function dateOf(value: string | Date, what: string): Date {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw config(`${what} is not a date`);
  return date;
}

function config(message: string): FlotillaError {
  return FlotillaError.of(FlotillaCodes.CONFIG, message);
}
