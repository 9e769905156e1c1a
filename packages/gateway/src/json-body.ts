/** @module The only body parser: JSON in strict UTF-8, with bounded nesting and prototype-poisoning checks. */
import { FlotillaError } from "@flotilla/core";
import type { FastifyInstance } from "fastify";
import { GatewayCodes } from "./http-errors.js";

export const DEFAULT_MAX_JSON_DEPTH = 64;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Replaces fastify's parsers, so any other content type (text/plain included) is answered with 415. */
export function installJsonBodyParser(app: FastifyInstance, maxDepth: number): void {
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (req, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(FlotillaError.of(GatewayCodes.MALFORMED_JSON, "request body is not valid UTF-8"), undefined);
      return;
    }
    // JSON.parse copes with any depth, but whatever walks the value next (validation, logging,
    // re-serialization on the wire) may recurse, so refuse absurd nesting before parsing at all.
    if (exceedsDepth(text, maxDepth)) {
      done(
        FlotillaError.of(GatewayCodes.JSON_TOO_DEEP, `request body nests deeper than ${maxDepth} levels`, {
          details: { limit: maxDepth },
        }),
        undefined,
      );
      return;
    }
    parseJson(req, text, done);
  });
}

/** One pass over the text counting brackets outside strings; cheap next to JSON.parse itself. */
export function exceedsDepth(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}
