import { describe, expect, it } from "vitest";
import { canAccess } from "../src/index.js";

describe("canAccess", () => {
  const owner = { subject: "u1", roles: ["customer"] };
  const admin = { subject: "root", roles: ["admin"] };
  const stranger = { subject: "u2", roles: ["customer"] };

  it("lets the owner and an admin in, and nobody else", () => {
    expect(canAccess(owner, "u1")).toBe(true);
    expect(canAccess(admin, "u1")).toBe(true);
    expect(canAccess(stranger, "u1")).toBe(false);
    expect(canAccess(undefined, "u1")).toBe(false);
  });

  it("matches no caller as the owner of an unowned thing; roles still apply", () => {
    expect(canAccess(owner, null)).toBe(false);
    expect(canAccess({ subject: "x", roles: [] }, undefined)).toBe(false);
    expect(canAccess(admin, null)).toBe(true);
  });

  it("takes other roles when told", () => {
    expect(canAccess({ subject: "s", roles: ["support"] }, "u1", ["support"])).toBe(true);
    expect(canAccess(admin, "u1", ["support"])).toBe(false);
  });
});
