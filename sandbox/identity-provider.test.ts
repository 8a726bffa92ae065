import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../common/auth/token-verifier.js';
import { createLogger } from '../common/logger.js';
import type { HttpService } from '../common/service.js';
import { seededDirectory, SandboxIdentityProvider } from './identity-provider.js';
import { createSandbox, type Sandbox } from './index.js';
import { createSandboxServer } from './server.js';

/*
 * The sandbox identity provider: which bodies it turns into tokens and what those tokens say, which it refuses and
 * why, its key set and rotation; then the same through the sandbox server over HTTP, verified by the gateway's own
 * token verifier against the served JWKS.
 */

const ISSUER = 'https://sandbox.retail.test';
const AUDIENCE = 'retail-supergraph';
const T0 = Date.UTC(2030, 0, 15, 12, 0, 0);
const T0_SECONDS = T0 / 1000;

let sandbox: Sandbox;
let provider: SandboxIdentityProvider;

beforeAll(async () => {
  sandbox = createSandbox({ seed: 42, scale: 1 });
  provider = await SandboxIdentityProvider.create({ issuer: ISSUER, audience: AUDIENCE, ...seededDirectory(sandbox.data), now: () => T0 });
});

async function tokenFor(body: unknown, from = provider) {
  const result = await from.issue(body);
  if ('error' in result) throw new Error(`refused: ${result.error}`);
  return result;
}

describe('issue', () => {
  it('issues a shopper token whose subject is the customer id', async () => {
    const { token, expiresAt } = await tokenFor({ role: 'shopper', customerId: 'cust-00042' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: ISSUER, aud: AUDIENCE, sub: 'cust-00042', role: 'shopper', scope: 'shopper', iat: T0_SECONDS, exp: T0_SECONDS + 3600 });
    expect(claims).not.toHaveProperty('location_id');
    expect(typeof claims.jti).toBe('string');
    expect(expiresAt).toBe(new Date((T0_SECONDS + 3600) * 1000).toISOString());
  });

  it('signs with ES256 under the published kid, typ JWT', async () => {
    const { token } = await tokenFor({ role: 'agent' });
    const [published] = provider.jwks().keys;
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: published?.kid, typ: 'JWT' });
  });

  it('issues store tokens for a store and for a warehouse, with location_id and an associate subject', async () => {
    for (const locationId of ['store-003', 'wh-01']) {
      const claims = decodeJwt((await tokenFor({ role: 'store', locationId })).token);
      expect(claims).toMatchObject({ sub: `associate@${locationId}`, role: 'store', scope: 'store', location_id: locationId });
    }
  });

  it('issues agent and finance tokens with a default or given subject', async () => {
    expect(decodeJwt((await tokenFor({ role: 'agent' })).token)).toMatchObject({ sub: 'sandbox-agent', role: 'agent', scope: 'agent' });
    expect(decodeJwt((await tokenFor({ role: 'finance' })).token)).toMatchObject({ sub: 'sandbox-finance', role: 'finance', scope: 'finance' });
    expect(decodeJwt((await tokenFor({ role: 'agent', subject: 'jane.doe@cs-01' })).token)).toMatchObject({ sub: 'jane.doe@cs-01' });
    expect(decodeJwt((await tokenFor({ role: 'finance', subject: 'F'.repeat(64) })).token)).toMatchObject({ sub: 'F'.repeat(64) });
  });

  it('gives every token its own jti', async () => {
    const ids = new Set<unknown>();
    for (let i = 0; i < 5; i++) ids.add(decodeJwt((await tokenFor({ role: 'agent' })).token).jti);
    expect(ids.size).toBe(5);
  });

  it('takes expiresInSeconds from 1 to 86400', async () => {
    for (const seconds of [1, 60, 86_400]) {
      const { token, expiresAt } = await tokenFor({ role: 'shopper', customerId: 'cust-00001', expiresInSeconds: seconds });
      expect(decodeJwt(token).exp).toBe(T0_SECONDS + seconds);
      expect(expiresAt).toBe(new Date((T0_SECONDS + seconds) * 1000).toISOString());
    }
  });

  const refused: [string, unknown, RegExp][] = [
    ['null', null, /body must be a JSON object/],
    ['an array', [{ role: 'agent' }], /body must be a JSON object/],
    ['a string', 'shopper', /body must be a JSON object/],
    ['no role', {}, /role is required: one of shopper, store, agent, finance/],
    ['an unknown role', { role: 'admin' }, /role "admin" is not one of shopper, store, agent, finance/],
    ['a role that is no string', { role: 1 }, /role 1 is not one of/],
    ['a shopper without customerId', { role: 'shopper' }, /shopper token needs customerId/],
    ['a shopper with a customerId that is no string', { role: 'shopper', customerId: 42 }, /needs customerId/],
    ['an unknown customer', { role: 'shopper', customerId: 'cust-99999' }, /customerId "cust-99999" is not a customer of the seeded CRM/],
    ['a store without locationId', { role: 'store' }, /store token needs locationId/],
    ['an unknown location', { role: 'store', locationId: 'store-999' }, /locationId "store-999" is not a store or warehouse/],
    ['a shopper with a locationId', { role: 'shopper', customerId: 'cust-00042', locationId: 'store-003' }, /field "locationId" is not allowed for role shopper: the fields are role, customerId, expiresInSeconds/],
    ['a shopper with a subject', { role: 'shopper', customerId: 'cust-00042', subject: 'x' }, /field "subject" is not allowed for role shopper/],
    ['a store with a customerId', { role: 'store', locationId: 'store-003', customerId: 'cust-00042' }, /field "customerId" is not allowed for role store/],
    ['an agent with a customerId', { role: 'agent', customerId: 'cust-00042' }, /field "customerId" is not allowed for role agent: the fields are role, subject, expiresInSeconds/],
    ['an unknown field', { role: 'finance', admin: true }, /field "admin" is not allowed for role finance/],
    ['an empty subject', { role: 'agent', subject: '' }, /subject must be 1 to 64 characters/],
    ['a subject with a space', { role: 'agent', subject: 'a b' }, /subject must be 1 to 64 characters/],
    ['a subject of 65 characters', { role: 'finance', subject: 'x'.repeat(65) }, /subject must be 1 to 64 characters/],
    ['a subject that is no string', { role: 'finance', subject: 7 }, /subject must be/],
    ['expiresInSeconds 0', { role: 'agent', expiresInSeconds: 0 }, /expiresInSeconds must be an integer from 1 to 86400/],
    ['expiresInSeconds 86401', { role: 'agent', expiresInSeconds: 86_401 }, /expiresInSeconds must be an integer from 1 to 86400/],
    ['expiresInSeconds 1.5', { role: 'agent', expiresInSeconds: 1.5 }, /expiresInSeconds must be an integer/],
    ['expiresInSeconds as a string', { role: 'agent', expiresInSeconds: '60' }, /expiresInSeconds must be an integer/],
    ['expiresInSeconds null', { role: 'agent', expiresInSeconds: null }, /expiresInSeconds must be an integer/],
  ];
  for (const [what, body, message] of refused) {
    it(`refuses ${what} with a message naming the field`, async () => {
      const result = await provider.issue(body);
      expect(result).toEqual({ error: expect.stringMatching(message) });
    });
  }

  it('quotes a huge value shortened, not whole', async () => {
    const result = await provider.issue({ role: 'shopper', customerId: 'c'.repeat(10_000) });
    expect('error' in result && result.error.length).toBeLessThan(200);
  });
});

describe('keys', () => {
  it('publishes public keys only, each with its thumbprint kid, alg and use', async () => {
    const { keys } = provider.jwks();
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(key.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(key).not.toHaveProperty('d');
    }
  });

  it('keeps a replaced key published while tokens it signed are unexpired, then drops it', async () => {
    let clock = T0;
    const own = await SandboxIdentityProvider.create({ issuer: ISSUER, audience: AUDIENCE, ...seededDirectory(sandbox.data), now: () => clock });
    const first = own.jwks().keys[0]?.kid;
    await tokenFor({ role: 'agent', expiresInSeconds: 600 }, own);
    const { kid: second } = await own.rotate();
    expect(second).not.toBe(first);
    expect(own.jwks().keys.map((k) => k.kid)).toEqual([second, first]);

    // The second key signed nothing, so the third rotation retires it at once.
    const { kid: third } = await own.rotate();
    expect(own.jwks().keys.map((k) => k.kid)).toEqual([third, first]);

    clock = T0 + 600_000 + 5 * 60_000; // past the token's exp and the grace for verifiers' clock tolerance
    expect(own.jwks().keys.map((k) => k.kid)).toEqual([third]);
  });
});

describe('through the sandbox server', () => {
  let server: HttpService;
  let base: string;
  let bare: HttpService;
  let bareBase: string;
  let served: SandboxIdentityProvider;
  const lines: string[] = [];

  beforeAll(async () => {
    served = await SandboxIdentityProvider.create({ issuer: ISSUER, audience: AUDIENCE, ...seededDirectory(sandbox.data) });
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    server = createSandboxServer(sandbox, logger, served);
    base = await server.listen(0, '127.0.0.1');
    bare = createSandboxServer(sandbox, createLogger({ level: 'silent' }));
    bareBase = await bare.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await server.stop();
    await bare.stop();
  });

  const post = (url: string, body: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('POST /sandbox/tokens answers a token the gateway verifier accepts against GET /sandbox/.well-known/jwks.json', async () => {
    const response = await post(`${base}/sandbox/tokens`, JSON.stringify({ role: 'store', locationId: 'store-003' }));
    expect(response.status).toBe(200);
    const { token, expiresAt } = (await response.json()) as { token: string; expiresAt: string };
    expect(new Date(expiresAt).toISOString()).toBe(expiresAt);
    const verifier = createTokenVerifier({ jwksUrl: `${base}/sandbox/.well-known/jwks.json`, issuer: ISSUER, audience: AUDIENCE });
    expect(await verifier.authenticate(`Bearer ${token}`)).toMatchObject({ ok: true, principal: { kind: 'store', locationId: 'store-003', subject: 'associate@store-003' } });
  });

  it('logs one line per token issued with the role and customer, never the token', async () => {
    lines.length = 0;
    const response = await post(`${base}/sandbox/tokens`, JSON.stringify({ role: 'shopper', customerId: 'cust-00042' }));
    const { token } = (await response.json()) as { token: string };
    const issuedLines = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'sandbox token issued');
    expect(issuedLines).toHaveLength(1);
    expect(issuedLines[0]).toMatchObject({ role: 'shopper', customerId: 'cust-00042' });
    expect(lines.join('\n')).not.toContain(token);
  });

  it('answers 400 with the reason for a refused body or malformed JSON', async () => {
    const refused = await post(`${base}/sandbox/tokens`, JSON.stringify({ role: 'shopper', customerId: 'cust-99999' }));
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: expect.stringMatching(/customerId "cust-99999" is not a customer/) });
    const malformed = await post(`${base}/sandbox/tokens`, '{"role":');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ error: expect.stringMatching(/malformed JSON/) });
    const empty = await post(`${base}/sandbox/tokens`, '');
    expect(empty.status).toBe(400);
  });

  it('serves the JWKS with a five-minute public cache-control', async () => {
    const response = await fetch(`${base}/sandbox/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    const body = (await response.json()) as { keys: Record<string, unknown>[] };
    expect(body).toEqual(served.jwks());
    for (const key of body.keys) expect(key).not.toHaveProperty('d');
  });

  it('POST /sandbox/keys/rotate signs new tokens with the new kid, and tokens of the old key still verify', async () => {
    const verifier = createTokenVerifier({ jwksUrl: `${base}/sandbox/.well-known/jwks.json`, issuer: ISSUER, audience: AUDIENCE, jwksCooldownMs: 0 });
    const before = (await (await post(`${base}/sandbox/tokens`, JSON.stringify({ role: 'finance' }))).json()) as { token: string };
    expect(await verifier.authenticate(`Bearer ${before.token}`)).toMatchObject({ ok: true });
    const oldKid = decodeProtectedHeader(before.token).kid;
    const older = (await (await post(`${base}/sandbox/tokens`, JSON.stringify({ role: 'agent' }))).json()) as { token: string };

    const rotated = await post(`${base}/sandbox/keys/rotate`, '');
    expect(rotated.status).toBe(200);
    const { kid } = (await rotated.json()) as { kid: string };
    expect(kid).not.toBe(oldKid);

    const after = (await (await post(`${base}/sandbox/tokens`, JSON.stringify({ role: 'agent', subject: 'after-rotation' }))).json()) as { token: string };
    expect(decodeProtectedHeader(after.token).kid).toBe(kid);
    expect(await verifier.authenticate(`Bearer ${after.token}`)).toMatchObject({ ok: true, principal: { kind: 'agent', subject: 'after-rotation' } });
    expect(await verifier.authenticate(`Bearer ${older.token}`)).toMatchObject({ ok: true, principal: { kind: 'agent', subject: 'sandbox-agent' } });
    const kids = ((await (await fetch(`${base}/sandbox/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    expect(kids).toEqual(expect.arrayContaining([kid, oldKid]));
  });

  it('answers 405 for the wrong method on the token routes', async () => {
    expect((await fetch(`${base}/sandbox/tokens`)).status).toBe(405);
    expect((await post(`${base}/sandbox/.well-known/jwks.json`, '')).status).toBe(405);
    expect((await fetch(`${base}/sandbox/keys/rotate`)).status).toBe(405);
  });

  it('answers 404 "no identity provider" on the token routes of a server built without one', async () => {
    for (const response of [
      await post(`${bareBase}/sandbox/tokens`, JSON.stringify({ role: 'agent' })),
      await fetch(`${bareBase}/sandbox/.well-known/jwks.json`),
      await post(`${bareBase}/sandbox/keys/rotate`, ''),
    ]) {
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: 'no identity provider' });
    }
    expect((await fetch(`${bareBase}/health`)).status).toBe(200);
  });
});
