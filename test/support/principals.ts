import { Kind, print, type DocumentNode } from 'graphql';
import { ANONYMOUS, type Principal } from '../../common/auth/principal.js';
import type { Authentication } from '../../common/auth/token-verifier.js';

/*
 * The callers a unit test plays, as a verified token would name them. An hour is longer than any test runs, so no
 * principal expires under one and no test has to think about expiry unless it means to.
 */
const HOUR = 3_600_000;

export const TEST_AGENT: Principal = { kind: 'agent', subject: 'test-agent', expiresAt: Date.now() + HOUR };
export const TEST_FINANCE: Principal = { kind: 'finance', subject: 'test-finance', expiresAt: Date.now() + HOUR };

export function testShopper(customerId: string): Principal {
  return { kind: 'shopper', subject: customerId, customerId, expiresAt: Date.now() + HOUR };
}

export function testStore(locationId: string): Principal {
  return { kind: 'store', subject: `associate@${locationId}`, locationId, expiresAt: Date.now() + HOUR };
}

export interface TestTokens {
  /** An Authorization header value that `authenticate` will resolve to `principal`. */
  bearer(principal: Principal): string;
  authenticate: (authorization: string | undefined) => Promise<Authentication>;
}

/**
 * A stand-in for the token verifier: a service under test authenticates through it as through the real one, so its
 * own directives and row rules decide, without an identity provider or signed JWTs. Each call has its own map so
 * that test files do not see each other's tokens; both functions are closures, so they can be destructured.
 */
export function testTokens(): TestTokens {
  const tokens = new Map<string, Principal>();
  return {
    bearer(principal) {
      const token = `Bearer test:${JSON.stringify(principal)}`;
      tokens.set(token, principal);
      return token;
    },
    async authenticate(authorization) {
      // As the real verifier: no header is an anonymous caller, a header it cannot trust is a 401.
      if (authorization === undefined) return { ok: true, principal: ANONYMOUS };
      const principal = tokens.get(authorization);
      return principal ? { ok: true, principal } : { ok: false, status: 401, code: 'UNAUTHENTICATED', message: 'unknown test token' };
    },
  };
}

/**
 * The authorization directives stated on each object field of a printed subgraph schema, keyed `Type.field`: what a
 * schema test compares against the agreed rules. Fields with none are left out, so an unprotected field shows up as
 * a missing key rather than an empty string.
 */
export function statedAuthorization(document: DocumentNode): Record<string, string> {
  const stated: Record<string, string> = {};
  for (const def of document.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
    for (const field of def.fields ?? []) {
      const directives = (field.directives ?? []).map((d) => print(d)).filter((d) => /^@(authenticated|requiresScopes|policy)\b/.test(d));
      if (directives.length) stated[`${def.name.value}.${field.name.value}`] = directives.join(' ');
    }
  }
  return stated;
}

/** `@requiresScopes` as the schema prints it for callers holding any one of `roles`. */
export function scopes(...roles: string[]): string {
  return `@requiresScopes(scopes: [${roles.map((r) => `["${r}"]`).join(', ')}])`;
}
