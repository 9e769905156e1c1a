/**
 * @module A deep copy equal to `JSON.parse(JSON.stringify(value))`, made without the text for plain
 * values (objects, arrays, strings, numbers, booleans, null): the wire-faithful transport copies
 * every request, reply and event, and most are small.
 */

/** Returned when the value holds something only JSON itself treats exactly right; the caller falls back. */
export const NOT_PLAIN: unique symbol = Symbol("not plain");

const MAX_DEPTH = 32;

interface Budget {
  /** An upper bound of the JSON bytes still allowed; below zero, the exact size must be counted. */
  left: number;
}

/**
 * The copy, or NOT_PLAIN when the value has a `toJSON`, a class instance, a bigint, more than 32
 * levels (or a cycle), or may serialize to more than `maxBytes` (its size is bounded generously
 * here: every string counted as if each unit needed a 6-byte escape).
 */
export function jsonCopy(value: unknown, maxBytes: number): unknown {
  return copy(value, 0, { left: maxBytes });
}

function copy(value: unknown, depth: number, budget: Budget): unknown {
  switch (typeof value) {
    case "string":
      budget.left -= value.length * 6 + 2;
      return budget.left < 0 ? NOT_PLAIN : value;
    case "number":
      budget.left -= 24;
      // JSON writes -0 as 0 and non-finite numbers as null.
      return Number.isFinite(value) ? value + 0 : null;
    case "boolean":
      budget.left -= 5;
      return value;
    case "object":
      if (value === null) {
        budget.left -= 4;
        return null;
      }
      if (depth >= MAX_DEPTH) return NOT_PLAIN;
      return Array.isArray(value) ? copyArray(value, depth, budget) : copyObject(value, depth, budget);
    default:
      // undefined, functions and symbols are left out of objects and become null in arrays (below);
      // bigint makes JSON throw, which the fallback reproduces.
      return NOT_PLAIN;
  }
}

function copyArray(array: readonly unknown[], depth: number, budget: Budget): unknown {
  if (typeof (array as { toJSON?: unknown }).toJSON === "function") return NOT_PLAIN;
  const out = new Array<unknown>(array.length);
  budget.left -= 2 + array.length;
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    if (isOmitted(item)) {
      out[i] = null;
      continue;
    }
    const copied = copy(item, depth + 1, budget);
    if (copied === NOT_PLAIN || budget.left < 0) return NOT_PLAIN;
    out[i] = copied;
  }
  return out;
}

function copyObject(object: object, depth: number, budget: Budget): unknown {
  const proto = Object.getPrototypeOf(object);
  if ((proto !== Object.prototype && proto !== null) || typeof (object as { toJSON?: unknown }).toJSON === "function") {
    return NOT_PLAIN;
  }
  const out: Record<string, unknown> = {};
  budget.left -= 2;
  for (const key of Object.keys(object)) {
    const item = (object as Record<string, unknown>)[key];
    if (isOmitted(item)) continue;
    budget.left -= key.length * 6 + 4;
    const copied = copy(item, depth + 1, budget);
    if (copied === NOT_PLAIN || budget.left < 0) return NOT_PLAIN;
    // JSON.parse makes "__proto__" an own property; an assignment would set the prototype instead.
    if (key === "__proto__")
      Object.defineProperty(out, key, { value: copied, enumerable: true, writable: true, configurable: true });
    else out[key] = copied;
  }
  return out;
}

function isOmitted(value: unknown): boolean {
  return value === undefined || typeof value === "function" || typeof value === "symbol";
}
