import { describe, expect, it } from "vitest";
import { CURRENT_PARAMS, dummyHash, hashPassword, needsRehash, verifyPassword } from "./passwords.js";

describe("password hashing", () => {
  it("stores salt, hash and parameters in one string, and verifies only the right password", async () => {
    const stored = await hashPassword("correct horse");
    const m = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([^$]+)\$([^$]+)$/.exec(stored);
    expect(m?.slice(1, 4).map(Number)).toEqual([CURRENT_PARAMS.ln, CURRENT_PARAMS.r, CURRENT_PARAMS.p]);
    expect(Buffer.from(m![4]!, "base64")).toHaveLength(16);
    expect(Buffer.from(m![5]!, "base64")).toHaveLength(32);
    expect(await verifyPassword("correct horse", stored)).toBe(true);
    expect(await verifyPassword("correct horsf", stored)).toBe(false);
    expect(await hashPassword("correct horse")).not.toBe(stored);
    expect(needsRehash(stored)).toBe(false);
  });

  it("verifies hashes made with older parameters, and marks them for rehashing", async () => {
    const old = await hashPassword("legacy", { ln: 10, r: 8, p: 1 });
    expect(old).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$/);
    expect(await verifyPassword("legacy", old)).toBe(true);
    expect(needsRehash(old)).toBe(true);
  });

  it("treats malformed or absurd stored strings as no match", async () => {
    for (const stored of [
      "",
      "plain",
      "$scrypt$ln=40,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA==",
      "$argon2id$v=19$x",
    ]) {
      expect(await verifyPassword("x", stored)).toBe(false);
      expect(needsRehash(stored)).toBe(true);
    }
  });

  it("costs a login a few tens of milliseconds", async () => {
    const stored = await dummyHash();
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await verifyPassword("guess", stored);
      times.push(performance.now() - started);
    }
    const median = times.sort((a, b) => a - b)[2]!;
    // Loose bounds (CI machines vary): far above a fast hash, far below a stalled login.
    expect(median).toBeGreaterThan(5);
    expect(median).toBeLessThan(1000);
  });
});
