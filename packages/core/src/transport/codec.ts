/** @module JSON codec with a payload size limit, shared by the wire-faithful and network transports. */
import { FlotillaCodes, FlotillaError } from "../errors.js";
import { jsonCopy, NOT_PLAIN } from "./json-copy.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

export function encode(value: unknown, maxBytes = DEFAULT_MAX_PAYLOAD_BYTES): Uint8Array {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw new FlotillaError("INVALID_ARGUMENT", `payload cannot be serialized: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const bytes = encoder.encode(json ?? "null");
  if (bytes.byteLength > maxBytes) throw tooLarge(bytes.byteLength, maxBytes);
  return bytes;
}

export function decode(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch (err) {
    throw FlotillaError.of(FlotillaCodes.BAD_ENVELOPE, "payload is not valid JSON", { cause: err });
  }
}

/**
 * A deep copy made the way the network would make it (`JSON.parse(JSON.stringify(value))`), with
 * the same size limit: for plain values without the text, otherwise one stringify and one parse.
 */
export function roundTrip<T>(value: T, maxBytes = DEFAULT_MAX_PAYLOAD_BYTES): T {
  if (value === undefined) return value;
  const copied = jsonCopy(value, maxBytes);
  if (copied !== NOT_PLAIN) return copied as T;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw new FlotillaError("INVALID_ARGUMENT", `payload cannot be serialized: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (json === undefined) return undefined as T;
  // UTF-16 length bounds UTF-8 size from below; count bytes only when it might matter.
  if (json.length * 3 > maxBytes) {
    const size = Buffer.byteLength(json);
    if (size > maxBytes) throw tooLarge(size, maxBytes);
  }
  return JSON.parse(json) as T;
}

function tooLarge(size: number, limit: number): FlotillaError {
  return FlotillaError.of(FlotillaCodes.PAYLOAD_TOO_LARGE, `payload is ${size} bytes; limit ${limit}`, {
    details: { size, limit },
  });
}
