import { assertNever } from '../assert-never.js';

/**
 * Who is calling, as a verified token says (or nobody). Every rule of "who may see what" is written against this
 * union: the gateway decides with it which fields a caller may have, and every subgraph decides with it which
 * rows (whose order, which store) it hands out.
 */

/** The roles a token may carry (claim `role`, see `AuthConfig.roleClaim`). */
export const ROLES = ['shopper', 'store', 'agent', 'finance', 'ops'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

interface Signed {
  /** The token's `sub`. */
  subject: string;
  /** The token's `exp`, in ms since the epoch. */
  expiresAt: number;
}

export type Principal =
  | { kind: 'anonymous' }
  /** A signed-in customer: the subject is their customer id. */
  | (Signed & { kind: 'shopper'; customerId: string })
  /** A store (or warehouse) associate of one location. */
  | (Signed & { kind: 'store'; locationId: string })
  /** A customer-service agent. */
  | (Signed & { kind: 'agent' })
  /** Finance staff. */
  | (Signed & { kind: 'finance' })
  /** Operations staff: the operations console and `/metrics`; no customer's data. */
  | (Signed & { kind: 'ops' });

export type SignedPrincipal = Exclude<Principal, { kind: 'anonymous' }>;

export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous' });

export { assertNever };

/**
 * The scopes a principal holds for `@requiresScopes`: its role's name. Scopes follow the role, not the token's own
 * `scope` claim, so that one claim decides both what a caller may have and which rows it may see.
 */
export function scopesOf(principal: Principal): ReadonlySet<string> {
  switch (principal.kind) {
    case 'anonymous':
      return NO_SCOPES;
    case 'shopper':
    case 'store':
    case 'agent':
    case 'finance':
    case 'ops':
      return SCOPES[principal.kind];
    default:
      return assertNever(principal);
  }
}

const NO_SCOPES: ReadonlySet<string> = new Set();
const SCOPES: Record<Role, ReadonlySet<string>> = {
  shopper: new Set(['shopper']),
  store: new Set(['store']),
  agent: new Set(['agent']),
  finance: new Set(['finance']),
  ops: new Set(['ops']),
};

/** A short, log-safe description (`shopper:cust-00042`, `store:store-003`, `agent`, `anonymous`): never the token. */
export function describePrincipal(principal: Principal): string {
  switch (principal.kind) {
    case 'anonymous':
      return 'anonymous';
    case 'shopper':
      return `shopper:${principal.customerId}`;
    case 'store':
      return `store:${principal.locationId}`;
    case 'agent':
    case 'finance':
    case 'ops':
      return `${principal.kind}:${principal.subject}`;
    default:
      return assertNever(principal);
  }
}

/** The claims a token must carry for each role, as {@link principalFromClaims} reads them. */
export interface ClaimNames {
  /** Claim naming the role. @default 'role' */
  role: string;
  /** Claim naming a store associate's location. @default 'location_id' */
  location: string;
}

export const DEFAULT_CLAIM_NAMES: ClaimNames = { role: 'role', location: 'location_id' };

/**
 * The principal a verified token's claims describe, or why they describe none. A token without a known role, a
 * shopper without a subject or a store associate without a location is invalid, not anonymous.
 */
export function principalFromClaims(claims: Record<string, unknown>, names: ClaimNames = DEFAULT_CLAIM_NAMES): Principal | string {
  const subject = typeof claims.sub === 'string' && claims.sub.length > 0 && claims.sub.length <= 255 ? claims.sub : undefined;
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  if (!subject) return 'the token has no subject (sub)';
  if (exp === undefined) return 'the token has no expiry (exp)';
  const role = claims[names.role];
  if (!isRole(role)) return `the token's ${names.role} claim is not one of ${ROLES.join(', ')}`;
  switch (role) {
    case 'shopper':
      return { kind: 'shopper', subject, customerId: subject, expiresAt: exp };
    case 'store': {
      const locationId = claims[names.location];
      if (typeof locationId !== 'string' || locationId.length === 0 || locationId.length > 200) return `a store token needs a ${names.location} claim`;
      return { kind: 'store', subject, locationId, expiresAt: exp };
    }
    case 'agent':
    case 'finance':
    case 'ops':
      return { kind: role, subject, expiresAt: exp };
    default:
      return assertNever(role);
  }
}
