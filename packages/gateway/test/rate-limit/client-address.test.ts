/** @module Client address: socket peer, trusted proxies (IPv4, IPv6, CIDR, mapped), right-most X-Forwarded-For. */
import { describe, expect, it } from "vitest";
import type { RequestView } from "../../src/index.js";
import {
  addressBucket,
  clientAddress,
  normalizeIp,
  rateLimitField,
  rateLimitPolicyField,
  trustedProxyList,
} from "../../src/rate-limit/index.js";

const req = (remoteAddress: string | undefined, xff?: string | string[]): RequestView => ({
  method: "GET",
  params: {},
  query: {},
  body: undefined,
  headers: xff === undefined ? {} : { "x-forwarded-for": xff },
  remoteAddress,
});

describe("client address", () => {
  const trusted = trustedProxyList(["10.0.0.0/8", "192.168.1.1", "2001:db8::/32", "::1"]);

  it("ignores X-Forwarded-For from an untrusted peer", () => {
    expect(clientAddress(req("203.0.113.9", "1.1.1.1"), trusted)).toBe("203.0.113.9");
    expect(clientAddress(req("::ffff:203.0.113.9", "1.1.1.1"), trusted)).toBe("203.0.113.9");
  });

  it("takes the right-most entry that is not a trusted proxy", () => {
    expect(clientAddress(req("10.1.2.3", "6.6.6.6, 198.51.100.7"), trusted)).toBe("198.51.100.7");
    expect(clientAddress(req("::ffff:10.1.2.3", "6.6.6.6, 198.51.100.7, 10.9.9.9"), trusted)).toBe("198.51.100.7");
    expect(clientAddress(req("::1", ["6.6.6.6", "2001:DB8::5, 2a00:1450::1"]), trusted)).toBe("2a00:1450::1");
    expect(clientAddress(req("192.168.1.1", "198.51.100.7:4711"), trusted)).toBe("198.51.100.7");
    expect(clientAddress(req("192.168.1.1", "[2a00:1450::2]:443"), trusted)).toBe("2a00:1450::2");
  });

  it("skips malformed entries and falls back to the peer when nothing else is left", () => {
    expect(clientAddress(req("10.0.0.1", "198.51.100.7, not-an-ip, , 999.1.1.1"), trusted)).toBe("198.51.100.7");
    expect(clientAddress(req("10.0.0.1", "garbage, 10.0.0.2"), trusted)).toBe("10.0.0.1");
    expect(clientAddress(req("10.0.0.1"), trusted)).toBe("10.0.0.1");
    expect(clientAddress(req(undefined, "1.1.1.1"), trusted)).toBeUndefined();
  });

  it("trusts nobody by default and refuses bad proxy entries", () => {
    expect(clientAddress(req("10.0.0.1", "1.1.1.1"), trustedProxyList([]))).toBe("10.0.0.1");
    for (const bad of ["10.0.0.0/33", "proxy.internal", "10.0.0.1/8/1", "::1/129"]) {
      expect(() => trustedProxyList([bad])).toThrowError(expect.objectContaining({ code: "FLOTILLA_CONFIG" }));
    }
  });

  it("normalizes addresses and groups IPv6 clients by /64", () => {
    expect(normalizeIp("::FFFF:192.0.2.1")).toBe("192.0.2.1");
    expect(normalizeIp("0:0:0:0:0:ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(normalizeIp("nope")).toBeUndefined();
    expect(addressBucket("192.0.2.1")).toBe("192.0.2.1");
    expect(addressBucket("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("2001:db8:1:2:bbbb:cccc:dddd:eeee")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressBucket("::1")).toBe("0:0:0:0::/64");
  });
});

describe("RateLimit fields (draft-ietf-httpapi-ratelimit-headers-10)", () => {
  it("formats the policy and the current limit as structured field items", () => {
    expect(rateLimitPolicyField("standard", { limit: 300, windowSec: 60 })).toBe('"standard";q=300;w=60');
    const allowed = { allowed: true, remaining: 12, resetSec: 30, retryAfterSec: 0 };
    expect(rateLimitField("standard", allowed)).toBe('"standard";r=12;t=30');
    const refused = { allowed: false, remaining: 0, resetSec: 60, retryAfterSec: 2 };
    expect(rateLimitField("standard", refused)).toBe('"standard";r=0;t=2');
  });
});
