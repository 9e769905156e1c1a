/** @module The demo accounts seeded on first start (SHOP-API.md "Demo data"). */

export interface DemoUser {
  id: string;
  email: string;
  password: string;
  name: string;
  role: "customer" | "admin";
  tier: "standard" | "premium";
}

// Fixed ids, so other services' demo data and tests can refer to these accounts.
export const demoUsers: readonly DemoUser[] = [
  {
    id: "user-demo",
    email: "demo@flotilla.dev",
    password: "demo-password",
    name: "Demo Customer",
    role: "customer",
    tier: "standard",
  },
  {
    id: "user-admin",
    email: "admin@flotilla.dev",
    password: "admin-password",
    name: "Shop Admin",
    role: "admin",
    tier: "standard",
  },
  {
    id: "user-premium",
    email: "premium@flotilla.dev",
    password: "premium-password",
    name: "Premium Customer",
    role: "customer",
    tier: "premium",
  },
];
