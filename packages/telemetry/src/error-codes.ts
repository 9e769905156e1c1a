/** @module Error codes as a label: the known ones as they are, a bounded few others, then `other`. */
import { FlotillaCodes, STATUS } from "@flotilla/core";

/** The label value of codes past the bound. */
export const OTHER_CODE = "other";

/** Flotilla's codes, and the status names an error made from a status alone (or a plain Error) carries as its code. */
const CATALOGUE: ReadonlySet<string> = new Set([...STATUS, ...Object.values(FlotillaCodes).map((c) => c.code)]);

/**
 * Maps a failure's code to a label value. Flotilla's own codes and the codes an action's contract
 * declares are finite and kept; any other code (a handler that builds codes from data) is kept for the
 * first `maxUnknown` distinct ones, and later ones all become `other`, so a label cannot explode.
 */
export function codeLabel(maxUnknown: number): (code: string, declared?: Readonly<Record<string, unknown>>) => string {
  const unknown = new Set<string>();
  return (code, declared) => {
    if (CATALOGUE.has(code) || (declared !== undefined && Object.hasOwn(declared, code))) return code;
    if (unknown.has(code)) return code;
    if (unknown.size >= maxUnknown) return OTHER_CODE;
    unknown.add(code);
    return code;
  };
}
