/** @module The client's address: the socket peer, or the X-Forwarded-For entry a trusted proxy vouches for. */
import { BlockList, isIP } from "node:net";
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import type { RequestView } from "../route.js";

/** Only the right-most entries matter (each trusted hop appends one); the rest is never read. */
const MAX_XFF_ENTRIES = 32;

/** Builds a matcher for proxies given as IPs or CIDRs, IPv4 or IPv6; throws a CONFIG error on a bad entry. */
export function trustedProxyList(entries: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const [ip = "", bits, extra] = entry.trim().split("/");
    const address = normalizeIp(ip);
    const family = address === undefined ? 0 : isIP(address);
    const prefix = bits === undefined ? undefined : Number(bits);
    const maxPrefix = family === 4 ? 32 : 128;
    if (address === undefined || extra !== undefined || (prefix !== undefined && !isPrefix(prefix, maxPrefix))) {
      throw FlotillaError.of(FlotillaCodes.CONFIG, `trustedProxies: "${entry}" is not an IP address or CIDR`);
    }
    const type = family === 4 ? "ipv4" : "ipv6";
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, prefix, type);
  }
  if (entries.length === 0) return () => false;
  return (address) => list.check(address, isIP(address) === 4 ? "ipv4" : "ipv6");
}

function isPrefix(n: number, max: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= max;
}

/**
 * The address to limit an anonymous request by. X-Forwarded-For is read only when the socket peer is a
 * trusted proxy, and then from the right: the right-most entry that is not itself a trusted proxy was
 * appended by one, while everything left of it is whatever the client chose to send. Malformed entries
 * are skipped; a trusted proxy always appends a valid address, so they can only be client-made.
 */
export function clientAddress(request: RequestView, isTrusted: (address: string) => boolean): string | undefined {
  const peer = request.remoteAddress === undefined ? undefined : normalizeIp(request.remoteAddress);
  if (peer === undefined || !isTrusted(peer)) return peer;
  const header = request.headers["x-forwarded-for"];
  if (header === undefined) return peer;
  const entries = (Array.isArray(header) ? header.join(",") : header).split(",");
  for (let i = entries.length - 1; i >= Math.max(0, entries.length - MAX_XFF_ENTRIES); i--) {
    const address = normalizeIp(stripPort(entries[i]!.trim()));
    if (address !== undefined && !isTrusted(address)) return address;
  }
  // Every hop is a trusted proxy (or garbage): the nearest proxy is all we know for sure.
  return peer;
}

/** A valid IP in one canonical form (IPv4-mapped IPv6 as plain IPv4, IPv6 lowercase), or undefined. */
export function normalizeIp(value: string): string | undefined {
  const family = isIP(value);
  if (family === 4) return value;
  if (family !== 6) return undefined;
  const lower = value.toLowerCase();
  const mapped = /^(?:0{0,4}:){0,4}:?(?:0{0,4}:)?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  return mapped !== null && isIP(mapped[1]!) === 4 ? mapped[1] : lower;
}

/** `1.2.3.4:5678` and `[2001:db8::1]:443`, as some proxies write them, without the port. */
function stripPort(entry: string): string {
  if (entry.startsWith("[")) {
    const end = entry.indexOf("]");
    return end > 0 ? entry.slice(1, end) : entry;
  }
  const colon = entry.indexOf(":");
  return colon > 0 && colon === entry.lastIndexOf(":") ? entry.slice(0, colon) : entry;
}

/**
 * The bucket an anonymous address counts against. An IPv6 client usually holds a whole /64, so limiting
 * per address would let it rotate through 2^64 of them; IPv4 addresses are limited one by one.
 */
export function addressBucket(address: string): string {
  if (isIP(address) !== 6) return address;
  return expandIpv6(address).slice(0, 4).join(":") + "::/64";
}

function expandIpv6(address: string): string[] {
  const [head = "", tail] = address.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  // An embedded IPv4 tail (::a.b.c.d) counts as two groups; it only matters past the /64 anyway.
  const width = [...left, ...right].reduce((n, g) => n + (g.includes(".") ? 2 : 1), 0);
  const zeros = tail === undefined ? [] : Array<string>(8 - width).fill("0");
  return [...left, ...zeros, ...right].map((g) => (g.includes(".") ? g : (Number.parseInt(g, 16) || 0).toString(16)));
}
