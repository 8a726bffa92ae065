import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { base64url, decodeJwt, decodeProtectedHeader, exportJWK, exportSPKI, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxIdentityProvider } from '../../sandbox/identity-provider.js';
import { ANONYMOUS } from './principal.js';
import { createTokenVerifier, type Authentication, type TokenVerifierOptions } from './token-verifier.js';

/*
 * The verifier against a real JWKS endpoint (node:http on a free port) publishing the sandbox identity provider's
 * keys and keys of our own: what it accepts, what it refuses and with which status, how it follows key rotation,
 * and what its cache saves.
 */

const ISSUER = 'https://idp.sandbox.test';
const AUDIENCE = 'retail-supergraph';
/** A fixed clock for verifier and provider, so expiry is decided by the test, never by how long it ran. */
const T0 = Date.now();
const T0_SECONDS = Math.floor(T0 / 1000);

type JwksMode = 'ok' | 'error' | 'hang';

interface JwksServer {
  url: string;
  /** GETs of the JWKS answered (or attempted) so far. */
  requests: number;
  mode: JwksMode;
  close(): Promise<void>;
}

async function startJwksServer(keys: () => JWK[]): Promise<JwksServer> {
  const state: JwksServer = { url: '', requests: 0, mode: 'ok', close: async () => {} };
  const server: Server = createServer((req, res) => {
    state.requests++;
    if (state.mode === 'hang') return; // never answers: the verifier's fetch must time out
    if (state.mode === 'error') {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('identity provider broken');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: keys() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  state.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

interface OwnKey {
  kid: string;
  alg: 'ES256' | 'RS256';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function ownKey(alg: 'ES256' | 'RS256', kid: string): Promise<OwnKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

interface SignOptions {
  issuer?: string;
  audience?: string;
  subject?: string | null;
  exp?: number | null;
  nbf?: number;
}

/** A token signed by one of our own keys: the claims the provider would never put in one. */
function sign(key: OwnKey, claims: JWTPayload, options: SignOptions = {}): Promise<string> {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt(T0_SECONDS);
  if (options.subject !== null) jwt.setSubject(options.subject ?? 'someone');
  if (options.exp !== null) jwt.setExpirationTime(options.exp ?? T0_SECONDS + 3600);
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  return jwt.sign(key.privateKey);
}

async function issued(provider: SandboxIdentityProvider, body: unknown): Promise<string> {
  const result = await provider.issue(body);
  if ('error' in result) throw new Error(result.error);
  return result.token;
}

function expectRefused(result: Authentication, token: string, message: RegExp): void {
  expect(result).toMatchObject({ ok: false, status: 401, code: 'UNAUTHENTICATED' });
  if (result.ok) return;
  expect(result.message).toMatch(message);
  expect(result.message).not.toContain(token);
}

const directory = { hasCustomer: (id: string) => id.startsWith('cust-'), hasLocation: (id: string) => /^(store|wh)-/.test(id) };

let provider: SandboxIdentityProvider;
let es: OwnKey;
let rsa: OwnKey;
let stranger: OwnKey;
let jwks: JwksServer;

function verifier(options: Partial<TokenVerifierOptions> = {}) {
  return createTokenVerifier({ jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE, now: () => T0, ...options });
}

beforeAll(async () => {
  provider = await SandboxIdentityProvider.create({ issuer: ISSUER, audience: AUDIENCE, ...directory, now: () => T0 });
  es = await ownKey('ES256', 'own-es');
  rsa = await ownKey('RS256', 'own-rsa');
  stranger = await ownKey('ES256', 'stranger');
  jwks = await startJwksServer(() => [...provider.jwks().keys, es.publicJwk, rsa.publicJwk]);
});

afterAll(async () => {
  await jwks.close();
});

describe('accepted tokens', () => {
  it('maps an ES256 token of each role the provider issues to its principal', async () => {
    const v = verifier();
    const cases: { body: unknown; principal: Record<string, unknown> }[] = [
      { body: { role: 'shopper', customerId: 'cust-00042' }, principal: { kind: 'shopper', customerId: 'cust-00042', subject: 'cust-00042' } },
      { body: { role: 'store', locationId: 'store-003' }, principal: { kind: 'store', locationId: 'store-003', subject: 'associate@store-003' } },
      { body: { role: 'store', locationId: 'wh-01' }, principal: { kind: 'store', locationId: 'wh-01', subject: 'associate@wh-01' } },
      { body: { role: 'agent' }, principal: { kind: 'agent', subject: 'sandbox-agent' } },
      { body: { role: 'finance', subject: 'fin.ops@example' }, principal: { kind: 'finance', subject: 'fin.ops@example' } },
    ];
    for (const { body, principal } of cases) {
      const token = await issued(provider, body);
      const result = await v.authenticate(`Bearer ${token}`);
      expect(result).toEqual({ ok: true, principal: { ...principal, expiresAt: (T0_SECONDS + 3600) * 1000 } });
    }
  });

  it('accepts an RS256 token', async () => {
    const token = await sign(rsa, { role: 'agent' }, { subject: 'agent-7' });
    expect(await verifier().authenticate(`Bearer ${token}`)).toEqual({ ok: true, principal: { kind: 'agent', subject: 'agent-7', expiresAt: (T0_SECONDS + 3600) * 1000 } });
  });

  it('reads the scheme case-insensitively', async () => {
    const token = await sign(es, { role: 'agent' });
    const v = verifier();
    for (const header of [`bearer ${token}`, `BEARER ${token}`, `  Bearer ${token}  `]) expect(await v.authenticate(header)).toMatchObject({ ok: true, principal: { kind: 'agent' } });
  });

  it('treats an absent or empty authorization as anonymous', async () => {
    const v = verifier();
    for (const header of [undefined, null, '', '   ']) expect(await v.authenticate(header)).toEqual({ ok: true, principal: ANONYMOUS });
  });

  it('accepts a token expired by less than the clock tolerance', async () => {
    const token = await sign(es, { role: 'agent' }, { exp: T0_SECONDS - 10 });
    expect(await verifier().authenticate(`Bearer ${token}`)).toMatchObject({ ok: true, principal: { kind: 'agent' } });
  });
});

describe('refused tokens (401)', () => {
  it('refuses a token expired beyond the clock tolerance', async () => {
    const token = await sign(es, { role: 'agent' }, { exp: T0_SECONDS - 60 });
    expectRefused(await verifier().authenticate(`Bearer ${token}`), token, /expired/);
  });

  it('honours a smaller clock tolerance', async () => {
    const token = await sign(es, { role: 'agent' }, { exp: T0_SECONDS - 10 });
    expectRefused(await verifier({ clockToleranceSeconds: 5 }).authenticate(`Bearer ${token}`), token, /expired/);
  });

  it('refuses a token whose nbf is in the future', async () => {
    const token = await sign(es, { role: 'agent' }, { nbf: T0_SECONDS + 120 });
    expectRefused(await verifier().authenticate(`Bearer ${token}`), token, /not valid yet \(nbf\)/);
  });

  it('refuses a token of another issuer', async () => {
    const token = await sign(es, { role: 'agent' }, { issuer: 'https://evil.example' });
    expectRefused(await verifier().authenticate(`Bearer ${token}`), token, /\(iss\)/);
  });

  it('refuses a token issued for another audience', async () => {
    const token = await sign(es, { role: 'agent' }, { audience: 'another-api' });
    expectRefused(await verifier().authenticate(`Bearer ${token}`), token, /not issued for this API \(aud\)/);
  });

  it('refuses an unsigned token (alg none)', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT', kid: es.kid }));
    const payload = base64url.encode(JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: 'x', role: 'finance', exp: T0_SECONDS + 3600 }));
    const token = `${header}.${payload}.`;
    expectRefused(await verifier().authenticate(`Bearer ${token}`), token, /algorithm is not allowed/);
  });

  it("refuses an HS256 token whose HMAC secret is the provider's public key (as JWK JSON and as PEM)", async () => {
    const published = provider.jwks().keys[0];
    if (!published) throw new Error('the provider publishes no key');
    const pem = await exportSPKI((await importJWK(published, 'ES256')) as CryptoKey);
    const v = verifier();
    for (const secret of [JSON.stringify(published), pem]) {
      const token = await new SignJWT({ role: 'finance' })
        .setProtectedHeader({ alg: 'HS256', kid: published.kid, typ: 'JWT' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject('mallory')
        .setExpirationTime(T0_SECONDS + 3600)
        .sign(new TextEncoder().encode(secret));
      expectRefused(await v.authenticate(`Bearer ${token}`), token, /algorithm is not allowed/);
    }
  });

  it('refuses a token whose claims were re-encoded under the original signature', async () => {
    const token = await issued(provider, { role: 'shopper', customerId: 'cust-00042' });
    const [header, , signature] = token.split('.');
    const claims = { ...decodeJwt(token), sub: 'cust-00001' };
    const tampered = `${header}.${base64url.encode(JSON.stringify(claims))}.${signature}`;
    expectRefused(await verifier().authenticate(`Bearer ${tampered}`), tampered, /signature does not verify/);
  });

  it('refuses a token signed by a key the provider does not publish (unknown kid)', async () => {
    const token = await sign(stranger, { role: 'finance' });
    expectRefused(await verifier().authenticate(`Bearer ${token}`), token, /does not publish \(kid\)/);
  });

  it("refuses a token signed by another key under a published key's kid", async () => {
    const token = await sign({ ...stranger, kid: es.kid }, { role: 'finance' });
    expectRefused(await verifier().authenticate(`Bearer ${token}`), token, /signature does not verify/);
  });

  it('refuses authorizations that are not "Bearer <token>"', async () => {
    const v = verifier();
    for (const header of ['Basic abc', 'Token abc.def.ghi', 'abc.def.ghi']) expectRefused(await v.authenticate(header), header, /Bearer scheme/);
    for (const header of ['Bearer', 'Bearer   ', 'Bearer a.b.c d.e.f']) expectRefused(await v.authenticate(header), 'a.b.c d.e.f', /one token after the scheme/);
  });

  it('refuses a bearer value that is not a JWT', async () => {
    const v = verifier();
    for (const token of ['not-a-jwt', 'a.b.c', 'e30.e30']) expectRefused(await v.authenticate(`Bearer ${token}`), token, /not a well-formed signed JWT/);
  });

  it('refuses a token without a known role, without sub or exp, or a store token without location', async () => {
    const v = verifier();
    const cases: [Promise<string>, RegExp][] = [
      [sign(es, {}), /role claim is not one of shopper, store, agent, finance/],
      [sign(es, { role: 'admin' }), /role claim/],
      [sign(es, { role: 'store' }), /store token needs a location_id claim/],
      [sign(es, { role: 'agent' }, { subject: null }), /no subject \(sub\)/],
      [sign(es, { role: 'agent' }, { exp: null }), /no expiry \(exp\)/],
    ];
    for (const [pending, message] of cases) {
      const token = await pending;
      expectRefused(await v.authenticate(`Bearer ${token}`), token, message);
    }
  });

  it('reads the role and location from the configured claim names', async () => {
    const token = await sign(es, { 'https://retail/role': 'store', 'https://retail/site': 'store-007' });
    const v = verifier({ claimNames: { role: 'https://retail/role', location: 'https://retail/site' } });
    expect(await v.authenticate(`Bearer ${token}`)).toMatchObject({ ok: true, principal: { kind: 'store', locationId: 'store-007' } });
  });
});

describe('the identity provider unavailable (503)', () => {
  it('answers AUTH_UNAVAILABLE when nothing listens at the JWKS URL', async () => {
    const down = await startJwksServer(() => []);
    await down.close();
    const token = await sign(es, { role: 'agent' });
    const result = await verifier({ jwksUrl: down.url }).authenticate(`Bearer ${token}`);
    expect(result).toMatchObject({ ok: false, status: 503, code: 'AUTH_UNAVAILABLE' });
    expect(JSON.stringify(result)).not.toContain(token);
  });

  it('answers AUTH_UNAVAILABLE when the JWKS fetch times out', async () => {
    const hanging = await startJwksServer(() => []);
    hanging.mode = 'hang';
    try {
      const token = await sign(es, { role: 'agent' });
      expect(await verifier({ jwksUrl: hanging.url, jwksTimeoutMs: 50 }).authenticate(`Bearer ${token}`)).toMatchObject({ ok: false, status: 503, code: 'AUTH_UNAVAILABLE' });
    } finally {
      await hanging.close();
    }
  });

  it('answers AUTH_UNAVAILABLE while the JWKS endpoint fails, and verifies once it answers again', async () => {
    const flaky = await startJwksServer(() => [es.publicJwk]);
    try {
      const v = verifier({ jwksUrl: flaky.url });
      const token = await sign(es, { role: 'agent' });
      flaky.mode = 'error';
      expect(await v.authenticate(`Bearer ${token}`)).toMatchObject({ ok: false, status: 503, code: 'AUTH_UNAVAILABLE' });
      flaky.mode = 'ok';
      expect(await v.authenticate(`Bearer ${token}`)).toMatchObject({ ok: true, principal: { kind: 'agent' } });
    } finally {
      await flaky.close();
    }
  });

  it('answers AUTH_UNAVAILABLE when the JWKS endpoint answers something that is no key set', async () => {
    const broken = await startJwksServer(() => 'nonsense' as unknown as JWK[]);
    try {
      const token = await sign(es, { role: 'agent' });
      expect(await verifier({ jwksUrl: broken.url }).authenticate(`Bearer ${token}`)).toMatchObject({ ok: false, status: 503, code: 'AUTH_UNAVAILABLE' });
    } finally {
      await broken.close();
    }
  });
});

describe('key rotation', () => {
  it('refetches the JWKS for the new kid after rotate() and still accepts tokens of the old key', async () => {
    const rotating = await SandboxIdentityProvider.create({ issuer: ISSUER, audience: AUDIENCE, ...directory, now: () => T0 });
    const server = await startJwksServer(() => rotating.jwks().keys);
    try {
      const v = verifier({ jwksUrl: server.url, jwksCooldownMs: 0 });
      const oldFirst = await issued(rotating, { role: 'agent' });
      const oldSecond = await issued(rotating, { role: 'finance' });
      expect(await v.authenticate(`Bearer ${oldFirst}`)).toMatchObject({ ok: true });
      expect(server.requests).toBe(1);

      const { kid } = await rotating.rotate();
      const fresh = await issued(rotating, { role: 'shopper', customerId: 'cust-00042' });
      expect(decodeProtectedHeader(fresh).kid).toBe(kid);
      expect(await v.authenticate(`Bearer ${fresh}`)).toMatchObject({ ok: true, principal: { kind: 'shopper' } });
      expect(server.requests).toBe(2);

      // Not cached (never verified before): checked against the old key, which the refetched JWKS still carries.
      expect(await v.authenticate(`Bearer ${oldSecond}`)).toMatchObject({ ok: true, principal: { kind: 'finance' } });
      expect(server.requests).toBe(2);
    } finally {
      await server.close();
    }
  });

  it('does not refetch the JWKS for an unknown kid within the cooldown', async () => {
    const server = await startJwksServer(() => [es.publicJwk]);
    try {
      const v = verifier({ jwksUrl: server.url });
      expect(await v.authenticate(`Bearer ${await sign(es, { role: 'agent' })}`)).toMatchObject({ ok: true });
      for (let i = 0; i < 3; i++) expect(await v.authenticate(`Bearer ${await sign(stranger, { role: 'agent' })}`)).toMatchObject({ status: 401 });
      expect(server.requests).toBe(1);
    } finally {
      await server.close();
    }
  });
});

describe('the verification cache', () => {
  // jwksCacheMaxAgeMs 0 makes jose fetch the JWKS for every signature it checks, so the fetch count counts verifications.
  let counted: JwksServer;
  beforeAll(async () => {
    counted = await startJwksServer(() => [es.publicJwk]);
  });
  afterAll(async () => {
    await counted.close();
  });

  it('verifies a token once however often it is presented', async () => {
    const v = verifier({ jwksUrl: counted.url, jwksCacheMaxAgeMs: 0 });
    const before = counted.requests;
    const token = await sign(es, { role: 'agent' });
    const first = await v.authenticate(`Bearer ${token}`);
    const second = await v.authenticate(`bearer ${token}`);
    expect(first).toMatchObject({ ok: true });
    expect(second).toBe(first);
    expect(counted.requests - before).toBe(1);

    // The control: another token is another verification.
    await v.authenticate(`Bearer ${await sign(es, { role: 'agent' })}`);
    expect(counted.requests - before).toBe(2);
  });

  it('shares one in-flight verification among concurrent requests with the same token', async () => {
    const v = verifier({ jwksUrl: counted.url, jwksCacheMaxAgeMs: 0 });
    const before = counted.requests;
    const header = `Bearer ${await sign(es, { role: 'finance' })}`;
    const pending = Array.from({ length: 8 }, () => v.authenticate(header));
    const results = await Promise.all(pending);
    for (const p of pending) expect(p).toBe(pending[0]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(counted.requests - before).toBe(1);
  });

  it('drops a cached token once past its exp and refuses it as expired', async () => {
    let clock = T0;
    const v = verifier({ jwksUrl: counted.url, jwksCacheMaxAgeMs: 0, now: () => clock });
    const before = counted.requests;
    const token = await sign(es, { role: 'agent' }, { exp: T0_SECONDS + 60 });
    expect(await v.authenticate(`Bearer ${token}`)).toMatchObject({ ok: true });
    clock = T0 + 120_000;
    expectRefused(await v.authenticate(`Bearer ${token}`), token, /expired/);
    expect(counted.requests - before).toBe(2);
  });

  it('does not cache a refusal: a token refused before its nbf is accepted after it', async () => {
    let clock = T0;
    const v = verifier({ jwksUrl: counted.url, now: () => clock });
    const token = await sign(es, { role: 'agent' }, { nbf: T0_SECONDS + 120 });
    expectRefused(await v.authenticate(`Bearer ${token}`), token, /nbf/);
    clock = T0 + 200_000;
    expect(await v.authenticate(`Bearer ${token}`)).toMatchObject({ ok: true });
  });

  it('keeps at most cacheSize tokens, evicting the oldest', async () => {
    const v = verifier({ jwksUrl: counted.url, jwksCacheMaxAgeMs: 0, cacheSize: 2 });
    const [a, b, c] = await Promise.all([sign(es, { role: 'agent' }), sign(es, { role: 'agent' }), sign(es, { role: 'agent' })]);
    for (const token of [a, b, c]) await v.authenticate(`Bearer ${token}`);
    const before = counted.requests;
    await v.authenticate(`Bearer ${c}`);
    await v.authenticate(`Bearer ${b}`);
    expect(counted.requests - before).toBe(0);
    await v.authenticate(`Bearer ${a}`); // evicted when c arrived
    expect(counted.requests - before).toBe(1);
  });

  it('hands out cached principals frozen, so one request cannot change another\'s', async () => {
    const v = verifier({ jwksUrl: counted.url });
    const result = await v.authenticate(`Bearer ${await sign(es, { role: 'agent' })}`);
    expect(Object.isFrozen(result)).toBe(true);
    if (result.ok) expect(Object.isFrozen(result.principal)).toBe(true);
  });
});
