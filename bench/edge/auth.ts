/**
 * @module Logging in before the load, for when the shop's gateway authenticates: `POST
 * /api/v1/auth/login` with the demo user's credentials gives `{ token }`, sent on every request as
 * `Authorization: Bearer <token>`. A shop without the route (404) is measured without a token.
 */

export const DEMO_LOGIN = { email: "demo@flotilla.dev", password: "demo-password" } as const;

/**
 * What the proxy cases send until a Flotilla case of the run has logged in (then its token): shaped and
 * sized like a signed JWT (header, claims, 256-bit signature, base64url). Nothing verifies it.
 */
export const PLACEHOLDER_TOKEN = [
  { alg: "HS256", typ: "JWT" },
  { sub: "user-demo", email: DEMO_LOGIN.email, iat: 1_796_000_000, exp: 1_796_003_600 },
]
  .map((part) => Buffer.from(JSON.stringify(part)).toString("base64url"))
  .concat(Buffer.alloc(32, 7).toString("base64url"))
  .join(".");

export type Login = { token: string } | { token: undefined; note: string };

export async function login(baseUrl: string): Promise<Login> {
  const res = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(DEMO_LOGIN),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (res.status === 404) return { token: undefined, note: "no /api/v1/auth/login (404): measured without a token" };
  if (!res.ok) throw new Error(`login answered ${res.status}: ${text.slice(0, 500)}`);
  const token = (JSON.parse(text) as { token?: unknown }).token;
  if (typeof token !== "string" || token === "")
    throw new Error(`login answered without a token: ${text.slice(0, 500)}`);
  return { token };
}

export function bearer(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}
