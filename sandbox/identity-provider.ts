/**
 * A development identity provider (sandbox mode only): it signs tokens for any seeded customer or location on
 * request, so developers and tests can call the graph as a shopper, an associate, an agent or finance without a real
 * provider, and it publishes its keys as a JWKS exactly as a real one would, so the gateway verifies these tokens
 * with the same code it uses in production.
 */
import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { DEFAULT_CLAIM_NAMES, isRole, ROLES, type Role } from '../common/auth/principal.js';
import type { SeedData } from './seed.js';

export interface IdentityProviderOptions {
  /** The `iss` of every token. */
  issuer: string;
  /** The `aud` of every token. */
  audience: string;
  /** Whether the seeded CRM has this customer. */
  hasCustomer(id: string): boolean;
  /** Whether the seeded POS (a store) or WMS (a warehouse) has this location. */
  hasLocation(id: string): boolean;
  /** The clock, in ms since the epoch: the tokens' `iat` and `exp`. @default Date.now */
  now?: () => number;
}

/** The seeded data's customers and locations, as {@link IdentityProviderOptions} asks for them. */
export function seededDirectory(data: Pick<SeedData, 'customers' | 'stores' | 'warehouses'>): Pick<IdentityProviderOptions, 'hasCustomer' | 'hasLocation'> {
  const customers = new Set(data.customers.map((c) => c.id));
  const locations = new Set([...data.stores, ...data.warehouses].map((l) => l.id));
  return { hasCustomer: (id) => customers.has(id), hasLocation: (id) => locations.has(id) };
}

const ALG = 'ES256';
const DEFAULT_EXPIRES_IN_SECONDS = 3600;
const MAX_EXPIRES_IN_SECONDS = 86_400;
const SUBJECT = /^[A-Za-z0-9._@-]{1,64}$/;
/**
 * A retired key stays published this long after the last token it signed expires, for verifiers whose clock
 * tolerance still accepts that token.
 */
const RETIRED_KEY_GRACE_MS = 5 * 60_000;

/** The fields each role's body may carry, besides `role`. */
const FIELDS: Record<Role, readonly string[]> = {
  shopper: ['customerId', 'expiresInSeconds'],
  store: ['locationId', 'expiresInSeconds'],
  agent: ['subject', 'expiresInSeconds'],
  finance: ['subject', 'expiresInSeconds'],
  ops: ['subject', 'expiresInSeconds'],
};

const EXAMPLES = '{"role":"shopper","customerId":"cust-00042"}, {"role":"store","locationId":"store-003"}, {"role":"agent"}, {"role":"finance"} or {"role":"ops"}';

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** The latest `exp` (ms) of a token this key signed. */
  lastExpiry: number;
}

/** A value from the request quoted in an error: short, so a huge body is not reflected whole. */
function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

interface Grant {
  role: Role;
  subject: string;
  locationId?: string;
  expiresInSeconds: number;
}

export class SandboxIdentityProvider {
  private current: SigningKey;
  private readonly retired: SigningKey[] = [];
  private readonly now: () => number;

  private constructor(
    private readonly options: IdentityProviderOptions,
    first: SigningKey,
  ) {
    this.current = first;
    this.now = options.now ?? Date.now;
  }

  /** A provider with a fresh ES256 signing key whose `kid` is its JWK thumbprint. */
  static async create(options: IdentityProviderOptions): Promise<SandboxIdentityProvider> {
    return new SandboxIdentityProvider(options, await newSigningKey());
  }

  /** A token for one of {@link EXAMPLES}'s bodies, or why the body is refused. */
  async issue(body: unknown): Promise<{ token: string; expiresAt: string } | { error: string }> {
    const grant = this.parse(body);
    if (typeof grant === 'string') return { error: grant };
    const key = this.current;
    const issuedAt = Math.floor(this.now() / 1000);
    const expiresAt = issuedAt + grant.expiresInSeconds;
    const claims: Record<string, unknown> = { [DEFAULT_CLAIM_NAMES.role]: grant.role, scope: grant.role };
    if (grant.locationId !== undefined) claims[DEFAULT_CLAIM_NAMES.location] = grant.locationId;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: ALG, kid: key.kid, typ: 'JWT' })
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setSubject(grant.subject)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .setJti(randomUUID())
      .sign(key.privateKey);
    key.lastExpiry = Math.max(key.lastExpiry, expiresAt * 1000);
    return { token, expiresAt: new Date(expiresAt * 1000).toISOString() };
  }

  /** The public keys: the signing key and the retired ones whose tokens may still be unexpired. */
  jwks(): { keys: JWK[] } {
    this.prune();
    return { keys: [this.current.publicJwk, ...this.retired.map((k) => k.publicJwk)] };
  }

  /** Sign with a new key from now on; the old one stays published until the tokens it signed have expired. */
  async rotate(): Promise<{ kid: string }> {
    const next = await newSigningKey();
    this.retired.unshift(this.current);
    this.current = next;
    this.prune();
    return { kid: next.kid };
  }

  private prune(): void {
    const now = this.now();
    for (let i = this.retired.length - 1; i >= 0; i--) {
      const key = this.retired[i];
      if (key && key.lastExpiry + RETIRED_KEY_GRACE_MS <= now) this.retired.splice(i, 1);
    }
  }

  private parse(body: unknown): Grant | string {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return `the body must be a JSON object: ${EXAMPLES}`;
    const fields = body as Record<string, unknown>;
    const role = fields.role;
    if (role === undefined) return `role is required: one of ${ROLES.join(', ')}`;
    if (!isRole(role)) return `role ${quote(role)} is not one of ${ROLES.join(', ')}`;
    const allowed = FIELDS[role];
    for (const name of Object.keys(fields)) {
      if (name !== 'role' && !allowed.includes(name)) return `field ${quote(name)} is not allowed for role ${role}: the fields are role, ${allowed.join(', ')}`;
    }

    let expiresInSeconds = DEFAULT_EXPIRES_IN_SECONDS;
    if (fields.expiresInSeconds !== undefined) {
      const value = fields.expiresInSeconds;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_EXPIRES_IN_SECONDS) {
        return `expiresInSeconds must be an integer from 1 to ${MAX_EXPIRES_IN_SECONDS} (default ${DEFAULT_EXPIRES_IN_SECONDS}), not ${quote(value)}`;
      }
      expiresInSeconds = value;
    }

    switch (role) {
      case 'shopper': {
        const id = fields.customerId;
        if (typeof id !== 'string' || id.length === 0) return 'a shopper token needs customerId: a customer id of the seeded CRM, such as "cust-00042"';
        if (!this.options.hasCustomer(id)) return `customerId ${quote(id)} is not a customer of the seeded CRM`;
        return { role, subject: id, expiresInSeconds };
      }
      case 'store': {
        const id = fields.locationId;
        if (typeof id !== 'string' || id.length === 0) return 'a store token needs locationId: a store or warehouse id of the seeded data, such as "store-003" or "wh-01"';
        if (!this.options.hasLocation(id)) return `locationId ${quote(id)} is not a store or warehouse of the seeded data`;
        return { role, subject: `associate@${id}`, locationId: id, expiresInSeconds };
      }
      case 'agent':
      case 'finance':
      case 'ops': {
        const subject = fields.subject ?? `sandbox-${role}`;
        if (typeof subject !== 'string' || !SUBJECT.test(subject)) return `subject must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', '@' and '-', not ${quote(subject)}`;
        return { role, subject, expiresInSeconds };
      }
    }
  }
}

async function newSigningKey(): Promise<SigningKey> {
  // The private key never leaves this process, so it need not be extractable; a public key always is.
  const { privateKey, publicKey } = await generateKeyPair(ALG);
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, privateKey, publicJwk: { ...jwk, kid, alg: ALG, use: 'sig' }, lastExpiry: 0 };
}
