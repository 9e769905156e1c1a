/** @module Choosing a split's variant for one request: matches first, then weights over sticky buckets. */
import type { Identity } from "@flotilla/core";
import type { TrafficRules } from "./traffic-rules.js";

/** What a choice may look at: the request's headers, its verified caller, and who an anonymous client is. */
export interface ChoiceInput {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly caller: Identity | undefined;
  /** Stands in for the caller's subject when there is none (a client id cookie, else the client address). */
  readonly clientId: string | undefined;
}

export interface Choice {
  readonly variant: string;
  /** `match` when a match rule chose, `weight` when the weights did. */
  readonly by: "match" | "weight";
}

/** Buckets per split: weights in whole percents use 100 buckets each. */
export const BUCKETS = 10_000;

/**
 * The variant for one request. Weights are laid out over the buckets with the declared non-default
 * variants first, from bucket 0, and the default last: raising a canary's weight only adds buckets to it,
 * so a user already on the canary stays there (10% → 50% keeps the first 10%).
 */
export function chooseVariant(
  split: string,
  rules: TrafficRules,
  layout: readonly string[],
  input: ChoiceInput,
  random: () => number = Math.random,
): Choice {
  for (const rule of rules.match) {
    if ("header" in rule) {
      const value = input.headers[rule.header];
      if (value === rule.value || (Array.isArray(value) && value.includes(rule.value))) return match(rule.variant);
    } else if ("tenant" in rule) {
      if (input.caller?.tenant === rule.tenant) return match(rule.variant);
    } else if (input.caller?.subject === rule.user) return match(rule.variant);
  }
  const key = input.caller?.subject ?? input.clientId;
  const bucket = rules.sticky === "user" && key !== undefined ? bucketOf(split, key) : Math.floor(random() * BUCKETS);
  let upTo = 0;
  for (const variant of layout) {
    upTo += (rules.weights[variant] ?? 0) * (BUCKETS / 100);
    if (bucket < upTo) return { variant, by: "weight" };
  }
  // Weights sum to 100, so only a layout missing a weighted variant ends here: the last one is the default.
  return { variant: layout[layout.length - 1] as string, by: "weight" };
}

/** 32-bit FNV-1a of the split's name and the key: the same user lands in unrelated buckets of two splits. */
export function bucketOf(split: string, key: string): number {
  let hash = 0x811c9dc5;
  const text = `${split}\u0000${key}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % BUCKETS;
}

/** The order buckets are given out in: the declared variants other than the default, then the default. */
export function bucketLayout(variants: readonly string[], defaultVariant: string): readonly string[] {
  return [...variants.filter((v) => v !== defaultVariant), defaultVariant];
}

const match = (variant: string): Choice => ({ variant, by: "match" });
