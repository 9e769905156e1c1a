/** @module The splits a gateway applies: their rules, where each came from, and the change that set them. */
import type { Host } from "@flotilla/core";
import type { Split } from "./splits.js";
import { variantNames } from "./splits.js";
import { defaultRules, parseRules, type TrafficRules } from "./traffic-rules.js";
import { bucketLayout, type Choice, type ChoiceInput, chooseVariant } from "./variant-choice.js";

/** A change of one split's rules, as the admin route makes it and the control event carries it. */
export interface TrafficChange {
  readonly split: string;
  /** The rules as JSON; every gateway validates them against its own declaration of the split. */
  readonly rules: unknown;
  /** One more than the version it replaced: gateways keep the highest they saw. */
  readonly version: number;
  /** ISO-8601 time of the change. */
  readonly changedAt: string;
  /** The admin's subject. */
  readonly changedBy: string | undefined;
  /** The gateway that made it; breaks ties between two changes of the same version, the same way everywhere. */
  readonly gateway: string;
}

/** Where a split's current rules came from: its declaration, this gateway's admin route, or another gateway. */
export type RulesOrigin = "code" | "admin" | "event";

/** One split as `GET /_flotilla/traffic` lists it. */
export interface SplitView {
  readonly name: string;
  readonly kind: Split["kind"];
  /** Variant names; a version split's map each to its version prefix. */
  readonly variants: Readonly<Record<string, string>> | readonly string[];
  readonly default: string;
  /** The split's service (version splits) or its method and path (route splits). */
  readonly target: string;
  readonly rules: TrafficRules;
  readonly origin: RulesOrigin;
  readonly version: number;
  readonly changedAt: string | undefined;
  readonly changedBy: string | undefined;
}

interface Entry {
  readonly split: Split;
  readonly layout: readonly string[];
  rules: TrafficRules;
  origin: RulesOrigin;
  change: TrafficChange | undefined;
}

export class TrafficState {
  private readonly entries = new Map<string, Entry>();
  private readonly byService = new Map<string, string>();

  constructor(
    splits: Readonly<Record<string, Split>>,
    private readonly log: Host["log"],
  ) {
    for (const [name, split] of Object.entries(splits)) {
      const variants = variantNames(split);
      const rules =
        split.rules === undefined ? defaultRules(split.default) : parseRules(split.rules, variants, split.kind);
      this.entries.set(name, {
        split,
        layout: bucketLayout(variants, split.default),
        rules,
        origin: "code",
        change: undefined,
      });
      if (split.kind === "version") this.byService.set(split.service, name);
    }
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The version split steering calls to `service`, if one does. */
  splitOfService(service: string): string | undefined {
    return this.byService.get(service);
  }

  split(name: string): Split | undefined {
    return this.entries.get(name)?.split;
  }

  rules(name: string): TrafficRules | undefined {
    return this.entries.get(name)?.rules;
  }

  choose(name: string, input: ChoiceInput): Choice {
    const entry = this.entries.get(name) as Entry;
    return chooseVariant(name, entry.rules, entry.layout, input);
  }

  /** A change of the rules asked for here: validated (INVALID_ARGUMENT), not applied yet (see `commit`). */
  propose(name: string, raw: unknown, changedBy: string | undefined, gateway: string): TrafficChange {
    const entry = this.entries.get(name) as Entry;
    parseRules(raw, variantNames(entry.split), entry.split.kind);
    return {
      split: name,
      rules: raw,
      version: (entry.change?.version ?? 0) + 1,
      changedAt: new Date().toISOString(),
      changedBy,
      gateway,
    };
  }

  /** Applies a change proposed here once it was published; its origin is `admin`. */
  commit(change: TrafficChange): void {
    this.apply(change);
    const entry = this.entries.get(change.split) as Entry;
    // Its own event may have come back first: it is the same change either way.
    if (entry.change?.gateway === change.gateway && entry.change.version === change.version) entry.origin = "admin";
  }

  /**
   * A change from the transport (another gateway's, or this one's coming back, or the history): applied
   * when newer than the current one. One this gateway cannot apply (an unknown split, rules its own
   * declaration refuses) is logged and skipped: gateways of two app versions may run side by side.
   */
  apply(change: TrafficChange): boolean {
    const entry = this.entries.get(change.split);
    if (entry === undefined) return false;
    if (entry.change !== undefined && !newer(change, entry.change)) return false;
    let rules: TrafficRules;
    try {
      rules = parseRules(change.rules, variantNames(entry.split), entry.split.kind);
    } catch (err) {
      this.log.warn(
        { err, split: change.split, version: change.version },
        "traffic: a change this gateway cannot apply",
      );
      return false;
    }
    Object.assign(entry, { rules, origin: "event", change });
    return true;
  }

  view(name: string): SplitView | undefined {
    const entry = this.entries.get(name);
    if (entry === undefined) return undefined;
    const { split } = entry;
    return {
      name,
      kind: split.kind,
      variants: split.kind === "version" ? split.variants : variantNames(split),
      default: split.default,
      target: split.kind === "version" ? split.service : `${split.method} ${split.path}`,
      rules: entry.rules,
      origin: entry.origin,
      version: entry.change?.version ?? 0,
      changedAt: entry.change?.changedAt,
      changedBy: entry.change?.changedBy,
    };
  }

  views(): SplitView[] {
    return [...this.entries.keys()].map((name) => this.view(name) as SplitView);
  }
}

function newer(a: TrafficChange, b: TrafficChange): boolean {
  if (a.version !== b.version) return a.version > b.version;
  return a.gateway > b.gateway;
}
