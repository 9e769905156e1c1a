/** @module The rules of a traffic split (weights, matches, stickiness, shadow) and their validation. */
import { FlotillaError } from "@flotilla/core";

/** Sends requests that carry a header value, a tenant or a user to one variant, whatever the weights say. */
export type MatchRule =
  | { readonly header: string; readonly value: string; readonly variant: string }
  | { readonly tenant: string; readonly variant: string }
  | { readonly user: string; readonly variant: string };

/** Also calls this variant for reads another variant serves, and compares the answers (route splits only). */
export interface ShadowRule {
  readonly variant: string;
  /** Share of eligible requests shadowed, 0–100 (100). */
  readonly percent: number;
}

/** How a split chooses, changed at run time without a restart (see docs/traffic.md). */
export interface TrafficRules {
  /** Percent per variant, non-negative integers summing to 100; a variant left out gets 0. */
  readonly weights: Readonly<Record<string, number>>;
  /** Tried in order before the weights; the first that applies wins. */
  readonly match: readonly MatchRule[];
  /** `user`: each caller (or anonymous client) stays on one variant; `none`: a fresh draw per request. */
  readonly sticky: "user" | "none";
  readonly shadow: ShadowRule | undefined;
}

export interface Issue {
  readonly path: string;
  readonly message: string;
}

const MAX_MATCHES = 100;
const MAX_TEXT = 256;

/**
 * Checks rules given as JSON against a split's variants: INVALID_ARGUMENT listing every problem in
 * `details.issues` (`{ path, message }`, e.g. `weights.canary`), as input validation does elsewhere.
 */
export function parseRules(raw: unknown, variants: readonly string[], kind: "version" | "route"): TrafficRules {
  const issues: Issue[] = [];
  const fail = (path: string, message: string) => issues.push({ path, message });
  const known = new Set(variants);
  const variantAt = (path: string, value: unknown): string => {
    if (typeof value !== "string" || !known.has(value)) fail(path, `must name a variant: ${variants.join(", ")}`);
    return value as string;
  };
  if (!isObject(raw)) throw invalid([{ path: "", message: "the rules must be a JSON object" }]);
  for (const key of Object.keys(raw)) {
    if (!["weights", "match", "sticky", "shadow"].includes(key))
      fail(key, "is not a rule (weights, match, sticky, shadow)");
  }
  const weights: Record<string, number> = {};
  if (!isObject(raw.weights)) fail("weights", "must be an object of variant → percent");
  else {
    let sum = 0;
    let valid = true;
    for (const [name, w] of Object.entries(raw.weights)) {
      variantAt(`weights.${name}`, name);
      if (typeof w !== "number" || !Number.isInteger(w) || w < 0 || w > 100) {
        fail(`weights.${name}`, "must be an integer from 0 to 100");
        valid = false;
      } else {
        weights[name] = w;
        sum += w;
      }
    }
    // The sum of weights that are themselves wrong would only repeat their problem.
    if (valid && sum !== 100) fail("weights", `must sum to 100, not ${sum}`);
  }
  const match = parseMatches(raw.match, fail, variantAt);
  const sticky = raw.sticky ?? "user";
  if (sticky !== "user" && sticky !== "none") fail("sticky", 'must be "user" or "none"');
  let shadow: ShadowRule | undefined;
  if (raw.shadow !== undefined && raw.shadow !== null) {
    if (kind === "version")
      fail("shadow", "only route splits shadow (a version split steers calls, it has no answer to compare)");
    else if (!isObject(raw.shadow)) fail("shadow", "must be { variant, percent }");
    else {
      const percent = raw.shadow.percent ?? 100;
      if (typeof percent !== "number" || !Number.isInteger(percent) || percent < 0 || percent > 100) {
        fail("shadow.percent", "must be an integer from 0 to 100");
      }
      shadow = { variant: variantAt("shadow.variant", raw.shadow.variant), percent: percent as number };
    }
  }
  if (issues.length > 0) throw invalid(issues);
  return Object.freeze({ weights, match, sticky: sticky as TrafficRules["sticky"], shadow });
}

function parseMatches(
  raw: unknown,
  fail: (path: string, message: string) => void,
  variantAt: (path: string, value: unknown) => string,
): MatchRule[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.length > MAX_MATCHES) {
    fail("match", `must be an array of at most ${MAX_MATCHES} entries`);
    return [];
  }
  return raw.map((entry, i): MatchRule => {
    const path = `match.${i}`;
    if (!isObject(entry)) {
      fail(path, "must be { header, value, variant }, { tenant, variant } or { user, variant }");
      return { user: "", variant: "" };
    }
    const variant = variantAt(`${path}.variant`, entry.variant);
    const text = (key: string, pattern?: RegExp): string => {
      const value = entry[key];
      if (typeof value !== "string" || value === "" || value.length > MAX_TEXT || (pattern && !pattern.test(value))) {
        fail(`${path}.${key}`, `must be a non-empty string of at most ${MAX_TEXT} characters`);
      }
      return value as string;
    };
    const keys = Object.keys(entry).filter((k) => k !== "variant");
    if (keys.length === 2 && keys.includes("header") && keys.includes("value")) {
      return { header: text("header", /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/).toLowerCase(), value: text("value"), variant };
    }
    if (keys.length === 1 && keys[0] === "tenant") return { tenant: text("tenant"), variant };
    if (keys.length === 1 && keys[0] === "user") return { user: text("user"), variant };
    fail(path, "must be { header, value, variant }, { tenant, variant } or { user, variant }");
    return { user: "", variant };
  });
}

/** The rules a split starts with when its declaration gives none: everything to the default variant. */
export function defaultRules(defaultVariant: string): TrafficRules {
  return Object.freeze({ weights: { [defaultVariant]: 100 }, match: [], sticky: "user", shadow: undefined });
}

function invalid(issues: readonly Issue[]): FlotillaError {
  const summary = issues.map((i) => `${i.path || "rules"}: ${i.message}`).join("; ");
  return new FlotillaError("INVALID_ARGUMENT", `invalid traffic rules (${summary})`, { details: { issues } });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
