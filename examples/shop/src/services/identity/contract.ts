/** @module The identity contract: accounts, sign-in tokens, signing keys, API keys and who is online. */
import { action, defineContract, event, sensitive } from "@flotilla/core";
import { z } from "zod";

export const Role = z.enum(["customer", "admin", "service"]);
export const Tier = z.enum(["standard", "premium"]);

/** Normalized before it is checked or stored, so `A@x.org` and `a@x.org ` are one account. */
const Email = sensitive(z.string().trim().toLowerCase().pipe(z.email().max(254)));

const User = z.object({ id: z.string(), email: sensitive(z.string()), name: z.string() });

/** Where a user's orders go by default; `country` is ISO 3166 alpha-2. */
export const PostalAddress = z.object({
  street: sensitive(z.string().trim().min(1).max(200)),
  city: z.string().trim().min(1).max(100),
  country: z.string().length(2),
});

const Profile = z.object({
  id: z.string(),
  email: sensitive(z.string()),
  name: z.string(),
  address: PostalAddress.nullable(),
});

/** A public signing key as RFC 7517 describes it: only public members, never `d`. */
const PublicJwk = z.object({
  kty: z.literal("EC"),
  crv: z.literal("P-256"),
  x: z.string(),
  y: z.string(),
  kid: z.string(),
  alg: z.literal("ES256"),
  use: z.literal("sig"),
});

/** No input: a body-less POST (logout) or a GET with no query both pass. */
const none = z.object({}).optional();
/** No output: the gateway answers 204. */
const nothing = z.undefined();

export const identity = defineContract({
  service: "identity",
  version: "1.0.0",
  actions: {
    register: action({
      input: z.object({
        email: Email,
        password: sensitive(z.string().min(8).max(128)),
        name: z.string().trim().min(1).max(100),
      }),
      output: User,
    }),
    login: action({
      description: "Checks a password and issues an access token (a JWT); expiresIn is in seconds",
      input: z.object({
        email: sensitive(z.string().trim().toLowerCase().max(254)),
        password: sensitive(z.string().min(1).max(128)),
      }),
      output: z.object({ token: z.string(), expiresIn: z.number().int().positive() }),
    }),
    logout: action({
      description: "Marks the caller signed out (the token lives until it expires)",
      input: none,
      output: nothing,
    }),
    me: action({
      input: none,
      output: User.extend({ roles: z.array(Role), tier: Tier }),
      idempotent: true,
    }),
    jwks: action({
      description: "The public keys tokens are verified with, for /.well-known/jwks.json",
      input: none,
      output: z.object({ keys: z.array(PublicJwk) }),
      idempotent: true,
    }),
    openidConfiguration: action({
      description: "OpenID Provider metadata for /.well-known/openid-configuration",
      input: none,
      output: z.object({
        issuer: z.string(),
        jwks_uri: z.string(),
        response_types_supported: z.array(z.string()),
        subject_types_supported: z.array(z.string()),
        id_token_signing_alg_values_supported: z.array(z.string()),
        claims_supported: z.array(z.string()),
      }),
      idempotent: true,
    }),
    rotateSigningKey: action({
      description: "Admin: a new signing key signs from now on; the old one stays published until its tokens expired",
      input: none,
      output: z.object({ kid: z.string(), retired: z.string().nullable() }),
    }),
    issueApiKey: action({
      description: "Admin: a key for a machine client; the key is shown only in this answer",
      input: z.object({
        name: z.string().trim().min(1).max(100),
        roles: z.array(Role).min(1).max(3).default(["service"]),
        tier: Tier.default("standard"),
      }),
      output: z.object({ id: z.string(), key: z.string() }),
    }),
    verifyApiKey: action({
      description: "For the gateway: the identity an API key stands for",
      input: z.object({ key: z.string().max(200) }),
      output: z.object({ subject: z.string(), roles: z.array(Role), tier: Tier }),
      idempotent: true,
    }),
    revokeApiKey: action({ description: "Admin", input: z.object({ id: z.string().max(100) }), output: nothing }),
    updateProfile: action({
      description: "The caller's own name and postal address; emits UserUpdated for services that keep a copy",
      input: z.object({
        name: z.string().trim().min(1).max(200).optional(),
        address: PostalAddress.nullable().optional(),
      }),
      output: Profile,
    }),
    usersOnline: action({
      description: "Users whose latest token has not expired and who did not sign out (eventually consistent)",
      input: none,
      output: z.object({
        count: z.number().int(),
        users: z.array(z.object({ userId: z.string(), since: z.string(), until: z.string() })),
      }),
      idempotent: true,
    }),
  },
  events: {
    UserRegistered: event({ schema: z.object({ userId: z.string(), email: sensitive(z.string()), name: z.string() }) }),
    UserSignedIn: event({ schema: z.object({ userId: z.string(), expiresAt: z.iso.datetime() }) }),
    UserSignedOut: event({ schema: z.object({ userId: z.string() }) }),
    /** The whole profile as it now is (not a diff): a copy kept elsewhere is simply replaced. */
    UserUpdated: event({ schema: Profile }),
  },
  errors: {
    EMAIL_TAKEN: "ALREADY_EXISTS",
    INVALID_CREDENTIALS: "UNAUTHENTICATED",
    API_KEY_INVALID: "UNAUTHENTICATED",
    API_KEY_NOT_FOUND: "NOT_FOUND",
    USER_NOT_FOUND: "NOT_FOUND",
    SIGN_IN_REQUIRED: "UNAUTHENTICATED",
  },
});
