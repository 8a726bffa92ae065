import { decodeJwt, decodeProtectedHeader, exportSPKI, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type SubgraphName } from '../common/config.js';
import { toGlobalId } from '../common/global-id.js';
import { tokenVerifierFor } from '../stack.js';
import { contractOperation } from './support/contract.js';
import { expectedLevel } from './support/expect.js';
import { AGENT, FINANCE, shopper, startTestStack, store, type Caller, type TestStack } from './support/stack.js';
import { collect, until, wsClient } from './support/subscriptions.js';

// Tokens through the real gateway and subgraphs: the sandbox identity provider over HTTP, tokens the graph must
// refuse (each 401, never anonymous), key rotation, tokens on WebSocket (at connection_init, at subscribe, and
// expiring mid-stream), and tokens kept out of the logs.

let stack: TestStack;
beforeAll(async () => {
  // No clock tolerance, so that an expired token is refused the moment it expires; no JWKS cooldown, so that a
  // rotated key is fetched at once; debug logs, so that "no token in the logs" covers the chattiest level.
  stack = await startTestStack({}, { AUTH_CLOCK_TOLERANCE_S: '0', AUTH_JWKS_COOLDOWN_MS: '0', LOG_LEVEL: 'debug' });
});
afterAll(async () => {
  await stack?.stop();
});

const SUBGRAPHS: SubgraphName[] = ['catalog', 'inventory', 'orders', 'customers', 'finance', 'nodes'];
const PUBLIC_PRODUCT = '{ product(id: "prod-0001") { id name } }';
const LOCATION = 'store-003';

interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

let seq = 0;
const correlation = () => `auth-${process.pid}-${Date.now()}-${++seq}`;

async function post(url: string, query: string, headers: Record<string, string> = {}, variables?: Record<string, unknown>): Promise<Reply> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-correlation-id': correlation(), ...headers }, body: JSON.stringify({ query, variables }) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** POST /sandbox/tokens with `body`, as any client of the sandbox would (each stack has its own provider). */
async function mint(body: unknown, on: TestStack = stack): Promise<{ status: number; body: any }> {
  return on.sandboxCall('POST', '/sandbox/tokens', body);
}

async function minted(body: Record<string, unknown>, on: TestStack = stack): Promise<string> {
  const answer = await mint(body, on);
  if (answer.status !== 200) throw new Error(`the sandbox refused ${JSON.stringify(body)}: ${JSON.stringify(answer.body)}`);
  return answer.body.token as string;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const codesOf = (body: any): unknown[] => (body?.errors ?? []).map((e: any) => e?.extensions?.code);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The request failed as a whole: 401, UNAUTHENTICATED, a Bearer challenge, and no data at all. */
function expectUnauthenticated(r: Reply, label: string) {
  expect(r.status, `${label}: ${JSON.stringify(r.body)}`).toBe(401);
  expect(codesOf(r.body), label).toEqual(['UNAUTHENTICATED']);
  expect(r.body.errors[0].message, label).toEqual(expect.any(String));
  expect(r.body.data, label).toBeUndefined();
  expect(r.headers.get('www-authenticate'), label).toMatch(/^Bearer error="invalid_token"/);
}

/** The same Authorization sent to the gateway (asking for a public product) and straight to every subgraph port. */
async function expectRefusedEverywhere(authorization: string, label: string) {
  expectUnauthenticated(await post(stack.urls.gateway, PUBLIC_PRODUCT, { authorization }), `${label} at the gateway`);
  for (const name of SUBGRAPHS) expectUnauthenticated(await post(stack.urls.subgraphs[name], '{ __typename }', { authorization }), `${label} at the ${name} subgraph`);
}

/** A sellable SKU at `locationId` in the seed. */
function skuAt(locationId: string, skip = 0): string {
  let seen = 0;
  const data = stack.sandbox.data;
  for (const s of data.stock) {
    if (s.locationId !== locationId || (expectedLevel(data, s.sku, locationId)?.available ?? 0) < 1) continue;
    if (seen++ === skip) return s.sku;
  }
  throw new Error(`no stock at ${locationId}`);
}

let keys = 0;
const key = () => `auth-${process.pid}-${Date.now()}-${++keys}`;

describe('the sandbox identity provider over HTTP', () => {
  it('issues a token for each of the four bodies, and the gateway accepts each as that caller', async () => {
    const sku = skuAt(LOCATION);
    const customer = stack.sandbox.data.customers[0]!;
    const cases: { body: Record<string, unknown>; query: string; check: (data: any) => void }[] = [
      { body: { role: 'shopper', customerId: 'cust-00042' }, query: '{ me { id } }', check: (d) => expect(d.me).toEqual({ id: toGlobalId('Customer', 'cust-00042') }) },
      {
        body: { role: 'store', locationId: LOCATION },
        query: `{ location(id: "${LOCATION}") { id inventoryLevels(skus: ["${sku}"]) { sku } } }`,
        check: (d) => expect(d.location).toEqual({ id: toGlobalId('Location', LOCATION), inventoryLevels: [{ sku }] }),
      },
      { body: { role: 'agent' }, query: `{ searchCustomers(query: "${customer.email}") { id } }`, check: (d) => expect(d.searchCustomers.map((c: any) => c.id)).toContain(toGlobalId('Customer', customer.id)) },
      { body: { role: 'finance' }, query: '{ erpOutbox(first: 1) { id } }', check: (d) => expect(Array.isArray(d.erpOutbox)).toBe(true) },
    ];
    for (const { body, query, check } of cases) {
      const issued = await mint(body);
      expect(issued.status, JSON.stringify(issued.body)).toBe(200);
      expect(issued.body).toEqual({ token: expect.any(String), expiresAt: expect.any(String) });
      const claims = decodeJwt(issued.body.token);
      expect(claims.role).toBe(body.role);
      expect(new Date(issued.body.expiresAt).getTime()).toBe(claims.exp! * 1000);
      expect(claims.exp! - claims.iat!).toBe(3600);
      const answer = await post(stack.urls.gateway, query, bearer(issued.body.token));
      expect(answer.status, `${JSON.stringify(body)}: ${JSON.stringify(answer.body)}`).toBe(200);
      expect(answer.body.errors, JSON.stringify(body)).toBeUndefined();
      check(answer.body.data);
    }
  });

  it('takes expiresInSeconds from 1 to 86400', async () => {
    for (const seconds of [1, 86_400]) {
      const claims = decodeJwt(await minted({ role: 'agent', expiresInSeconds: seconds }));
      expect(claims.exp! - claims.iat!).toBe(seconds);
    }
  });

  it.each([
    ['an unknown customer', { role: 'shopper', customerId: 'cust-99999' }, /cust-99999/],
    ['a shopper without a customer', { role: 'shopper' }, /customerId/],
    ['an unknown location', { role: 'store', locationId: 'store-999' }, /store-999/],
    ['an unknown role', { role: 'admin' }, /admin/],
    ['an extra field (a shopper with a location)', { role: 'shopper', customerId: 'cust-00042', locationId: LOCATION }, /locationId/],
    ['an extra field (an agent with a claim of its own)', { role: 'agent', admin: true }, /admin/],
    ['expiresInSeconds 0', { role: 'agent', expiresInSeconds: 0 }, /expiresInSeconds/],
    ['expiresInSeconds 86401', { role: 'agent', expiresInSeconds: 86_401 }, /expiresInSeconds/],
    ['a body that is not an object', [{ role: 'agent' }], /JSON object/],
  ])('refuses %s with 400 and a message', async (_what, body, message) => {
    const answer = await mint(body);
    expect(answer.status).toBe(400);
    expect(answer.body.token).toBeUndefined();
    expect(answer.body.error).toMatch(message);
  });

  it('publishes public keys only at /sandbox/.well-known/jwks.json, the signing key among them', async () => {
    const { status, body } = await stack.sandboxCall('GET', '/sandbox/.well-known/jwks.json');
    expect(status).toBe(200);
    expect(body.keys.length).toBeGreaterThan(0);
    for (const jwk of body.keys as JWK[]) {
      expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.any(String), x: expect.any(String), y: expect.any(String) });
      // No private part: `d` (EC, RSA), nor RSA's primes and exponents, nor a symmetric `k`.
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(jwk, secret).not.toHaveProperty(secret);
    }
    const { kid } = decodeProtectedHeader(await minted({ role: 'agent' }));
    expect(body.keys.map((k: JWK) => k.kid)).toContain(kid);
  });
});

describe('refused tokens: HTTP 401 UNAUTHENTICATED with WWW-Authenticate, at the gateway and at every subgraph, never anonymous', () => {
  let good: string;
  beforeAll(async () => {
    good = await minted({ role: 'shopper', customerId: 'cust-00042' });
  });

  /** A token built by hand: the provider's header and claims (unless replaced), and a signature of our choosing. */
  const forged = async (sign: (claims: Record<string, unknown>, kid: string) => Promise<string>) => sign({ ...decodeJwt(good) }, decodeProtectedHeader(good).kid!);
  const publicJwk = async (kid: string): Promise<JWK> => {
    const { body } = await stack.sandboxCall('GET', '/sandbox/.well-known/jwks.json');
    return (body.keys as JWK[]).find((k) => k.kid === kid)!;
  };

  it('the controls: no token, and the good token, answer the same public request with 200', async () => {
    const anonymous = await post(stack.urls.gateway, PUBLIC_PRODUCT);
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.data.product.id).toBe(toGlobalId('Product', 'prod-0001'));
    const signedIn = await post(stack.urls.gateway, PUBLIC_PRODUCT, bearer(good));
    expect(signedIn.status).toBe(200);
    expect(signedIn.body).toEqual(anonymous.body);
    for (const name of SUBGRAPHS) expect((await post(stack.urls.subgraphs[name], '{ __typename }', bearer(good))).status, name).toBe(200);
  });

  const refused: [string, () => Promise<string>][] = [
    ['alg "none" (no signature)', async () => forged(async (claims) => `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`)],
    [
      'HS256 keyed with the provider’s public key as JWK JSON',
      async () => forged(async (claims, kid) => `Bearer ${await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid, typ: 'JWT' }).sign(new TextEncoder().encode(JSON.stringify(await publicJwk(kid))))}`),
    ],
    [
      'HS256 keyed with the provider’s public key as PEM (SPKI)',
      async () =>
        forged(async (claims, kid) => {
          const pem = await exportSPKI((await importJWK(await publicJwk(kid), 'ES256', { extractable: true })) as CryptoKey);
          expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
          return `Bearer ${await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid, typ: 'JWT' }).sign(new TextEncoder().encode(pem))}`;
        }),
    ],
    [
      'a tampered payload (sub changed to another customer, the original signature)',
      async () => {
        const [header, payload, signature] = good.split('.');
        const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'));
        return `Bearer ${header}.${b64({ ...claims, sub: 'cust-00043' })}.${signature}`;
      },
    ],
    [
      'signed by a key the provider does not publish (kid "not-ours")',
      async () => {
        const { privateKey } = await generateKeyPair('ES256');
        return forged(async (claims) => `Bearer ${await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'not-ours', typ: 'JWT' }).sign(privateKey)}`);
      },
    ],
    ['Authorization: Basic x', async () => 'Basic x'],
    ['Bearer with garbage', async () => 'Bearer garbage'],
    ['Bearer with three garbage segments', async () => 'Bearer aaa.bbb.ccc'],
    ['Bearer with characters no token has', async () => 'Bearer %%%'],
    ['Bearer and no token', async () => 'Bearer'],
  ];

  it.each(refused)('%s', async (what, authorization) => {
    await expectRefusedEverywhere(await authorization(), what);
  });

  it('an expired token (expiresInSeconds: 2, AUTH_CLOCK_TOLERANCE_S=0): accepted, then refused once its exp has passed', async () => {
    const token = await minted({ role: 'shopper', customerId: 'cust-00044', expiresInSeconds: 2 });
    const { exp } = decodeJwt(token);
    const before = await post(stack.urls.gateway, '{ me { id } }', bearer(token));
    expect(before.status, JSON.stringify(before.body)).toBe(200);
    expect(before.body.data.me.id).toBe(toGlobalId('Customer', 'cust-00044'));
    await until(() => Date.now() > exp! * 1000, 5_000, 'the token to expire');
    await expectRefusedEverywhere(`Bearer ${token}`, 'expired');
    const answer = await post(stack.urls.gateway, PUBLIC_PRODUCT, bearer(token));
    expect(answer.body.errors[0].message).toMatch(/expired/);
    // And at connection_init.
    const client = wsClient(stack.urls.gateway, { connectionParams: { authorization: `Bearer ${token}` } });
    try {
      const stream = collect(client, PUBLIC_PRODUCT);
      await stream.ended();
      expect((stream.error as { code?: number }).code, JSON.stringify(stream.error)).toBe(4401);
    } finally {
      await client.dispose();
    }
  });

  it('a verifier that expects another issuer or audience refuses the sandbox\'s tokens (a provider other than the configured one)', async () => {
    const token = await stack.token(shopper('cust-00042'));
    const config = loadConfig({ AUTH_CLOCK_TOLERANCE_S: '0' });
    const expecting = (auth: Partial<typeof config.auth>) => tokenVerifierFor({ ...config, auth: { ...config.auth, ...auth } }, stack.urls.sandbox);
    expect((await expecting({}).authenticate(`Bearer ${token}`)).ok).toBe(true);
    const otherIssuer = await expecting({ issuer: 'https://login.example.com/' }).authenticate(`Bearer ${token}`);
    expect(otherIssuer).toMatchObject({ ok: false, status: 401, code: 'UNAUTHENTICATED' });
    const otherAudience = await expecting({ audience: 'another-api' }).authenticate(`Bearer ${token}`);
    expect(otherAudience).toMatchObject({ ok: false, status: 401, code: 'UNAUTHENTICATED' });
    expect((otherAudience as { message: string }).message).toMatch(/aud/);
  });
});

describe('key rotation (AUTH_JWKS_COOLDOWN_MS=0)', () => {
  it('after POST /sandbox/keys/rotate the gateway accepts a token of the new key (refetching on the unknown kid), and tokens minted before still pass', async () => {
    // Used before the rotation, so the gateway holds the JWKS of the old key only.
    const used = await minted({ role: 'shopper', customerId: 'cust-00050' });
    expect((await post(stack.urls.gateway, '{ me { id } }', bearer(used))).body.data.me.id).toBe(toGlobalId('Customer', 'cust-00050'));
    // Minted before the rotation but never shown to the gateway: it can only pass by the old key, still published.
    const unused = await minted({ role: 'shopper', customerId: 'cust-00051' });
    const oldKid = decodeProtectedHeader(used).kid;

    const rotated = await stack.sandboxCall('POST', '/sandbox/keys/rotate');
    expect(rotated.status).toBe(200);
    expect(rotated.body.kid).toEqual(expect.any(String));
    expect(rotated.body.kid).not.toBe(oldKid);

    const fresh = await minted({ role: 'shopper', customerId: 'cust-00052' });
    expect(decodeProtectedHeader(fresh).kid).toBe(rotated.body.kid);
    const jwks = await stack.sandboxCall('GET', '/sandbox/.well-known/jwks.json');
    expect(jwks.body.keys.map((k: JWK) => k.kid)).toEqual(expect.arrayContaining([oldKid, rotated.body.kid]));

    for (const [token, customerId] of [
      [fresh, 'cust-00052'],
      [unused, 'cust-00051'],
      [used, 'cust-00050'],
    ] as const) {
      const answer = await post(stack.urls.gateway, '{ me { id } }', bearer(token));
      expect(answer.status, `${customerId}: ${JSON.stringify(answer.body)}`).toBe(200);
      expect(answer.body.data.me.id).toBe(toGlobalId('Customer', customerId));
    }
    // Straight to a subgraph as well.
    const direct = await post(stack.urls.subgraphs.customers, '{ me { id } }', bearer(fresh));
    expect(direct.status, JSON.stringify(direct.body)).toBe(200);
    expect(direct.body.data.me.id).toBe(toGlobalId('Customer', 'cust-00052'));
  });
});

describe.each(['local', 'http'] as const)('tokens on WebSocket (graphql-ws), %s dispatch', (dispatch) => {
  // The local run uses the file's stack; the HTTP run its own, whose gateway subscribes to the subgraphs over graphql-ws.
  let ws: TestStack;
  beforeAll(async () => {
    ws = dispatch === 'local' ? stack : await startTestStack({}, { AUTH_CLOCK_TOLERANCE_S: '0', AUTH_JWKS_COOLDOWN_MS: '0', SUBGRAPH_DISPATCH: 'http' });
  });
  afterAll(async () => {
    if (ws && ws !== stack) await ws.stop();
  });
  const clients: ReturnType<typeof wsClient>[] = [];
  const client = (authorization?: string, url = ws.urls.gateway) => {
    const c = wsClient(url, authorization === undefined ? {} : { connectionParams: { authorization } });
    clients.push(c);
    return c;
  };
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
  });
  const started = () => ws.logs.filter((l) => l.msg === 'graphql subscription started').length;
  const errorCodes = (error: unknown): unknown[] => (Array.isArray(error) ? error.map((e) => e?.extensions?.code) : []);

  it('connection_init with a refused token closes the socket with 4401 (garbage, alg none, another key, expired-looking exp)', async () => {
    const good = await minted({ role: 'store', locationId: LOCATION }, ws);
    const [header, payload] = good.split('.');
    const { privateKey } = await generateKeyPair('ES256');
    const otherKey = await new SignJWT({ ...decodeJwt(good) }).setProtectedHeader({ alg: 'ES256', kid: 'not-ours' }).sign(privateKey);
    const bad = ['Bearer garbage', `Bearer ${b64({ alg: 'none' })}.${payload}.`, `Bearer ${otherKey}`, `Bearer ${header}.${b64({ ...decodeJwt(good), exp: 1 })}.${good.split('.')[2]}`, 'Basic x'];
    for (const authorization of bad) {
      const stream = collect(client(authorization), contractOperation('StoreInventory'), { locationId: LOCATION });
      await stream.ended();
      expect((stream.error as { code?: number }).code, `${authorization.slice(0, 30)}: ${JSON.stringify(stream.error)}`).toBe(4401);
      expect(stream.results).toEqual([]);
    }
  });

  it('a refused token on the upgrade request’s Authorization header (no connection_init params) closes with 4401 too', async () => {
    class WithHeader extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers: { authorization: 'Bearer garbage' } });
      }
    }
    const c = wsClient(ws.urls.gateway, { webSocketImpl: WithHeader });
    clients.push(c);
    const stream = collect(c, contractOperation('StoreInventory'), { locationId: LOCATION });
    await stream.ended();
    expect((stream.error as { code?: number }).code, JSON.stringify(stream.error)).toBe(4401);
  });

  it('a refused token at a subgraph’s own WebSocket closes with 4401', async () => {
    const stream = collect(client('Bearer garbage', ws.urls.subgraphs.inventory), 'subscription ($l: ID!) { inventoryChanged(locationId: $l) { sku } }', { l: LOCATION });
    await stream.ended();
    expect((stream.error as { code?: number }).code, JSON.stringify(stream.error)).toBe(4401);
  });

  it('without a token, subscribing to StoreInventory is an error with code UNAUTHENTICATED', async () => {
    const before = started();
    const stream = collect(client(), contractOperation('StoreInventory'), { locationId: LOCATION });
    await stream.ended();
    expect(errorCodes(stream.error), JSON.stringify(stream.error)).toEqual(['UNAUTHENTICATED']);
    expect(stream.results).toEqual([]);
    expect(started()).toBe(before);
  });

  it('a store token for another location subscribing to StoreInventory here is FORBIDDEN', async () => {
    const before = started();
    const stream = collect(client(`Bearer ${await minted({ role: 'store', locationId: 'store-004' }, ws)}`), contractOperation('StoreInventory'), { locationId: LOCATION });
    await stream.ended();
    expect(errorCodes(stream.error), JSON.stringify(stream.error)).toEqual(['FORBIDDEN']);
    expect(started()).toBe(before);
  });

  it('a store token that expires mid-stream (expiresInSeconds: 2): the change arrives, then the stream ends with UNAUTHENTICATED by itself, and the open socket refuses what comes next', async () => {
    const sku = skuAt(LOCATION, dispatch === 'local' ? 3 : 4);
    const short = await minted({ role: 'store', locationId: LOCATION, expiresInSeconds: 2 }, ws);
    const before = started();
    const statsBefore = ws.gateway.subscriptionStats();
    // Not lazy: the socket stays open after its subscription ends, so that a later operation goes over the same one.
    const socket = wsClient(ws.urls.gateway, { lazy: false, connectionParams: { authorization: `Bearer ${short}` } });
    clients.push(socket);
    let connections = 0;
    socket.on('connected', () => connections++);
    const stream = collect(socket, contractOperation('StoreInventory'), { locationId: LOCATION, skus: [sku] });
    await until(() => started() > before || stream.error !== undefined, 5_000, 'the subscription to start at inventory');
    expect(stream.error).toBeUndefined();

    // The change, made by the same store with a long-lived token of its own.
    const adjusted = await ws.queryAs(store(LOCATION), contractOperation('AdjustStock'), { input: { idempotencyKey: key(), locationId: LOCATION, sku, reason: 'RECEIPT', delta: 2 } });
    expect((adjusted.body.data as any).adjustInventory.userErrors, JSON.stringify(adjusted.body)).toEqual([]);
    const [change] = await stream.waitFor(1);
    expect(change!.errors, JSON.stringify(change)).toBeUndefined();
    expect(change!.data.inventoryChanged).toMatchObject({ sku, reason: 'RECEIPT', delta: 2, location: { id: toGlobalId('Location', LOCATION) } });

    // Nothing more is sent by the client: the gateway ends the stream when the token expires.
    await stream.ended(10_000);
    expect(stream.completed, `completed instead of failing; results: ${JSON.stringify(stream.results)}`).toBe(false);
    expect(errorCodes(stream.error), JSON.stringify(stream.error)).toEqual(['UNAUTHENTICATED']);
    expect(stream.results).toHaveLength(1);
    // The gateway let go of the subscription and of its upstream stream.
    await until(() => ws.gateway.subscriptionStats().subscribers === statsBefore.subscribers && ws.gateway.subscriptionStats().upstreams === statsBefore.upstreams, 5_000, 'the hub to drop the expired subscription');

    // The socket is still open, but its token has expired: a new operation on it is refused the same way.
    const again = collect(socket, PUBLIC_PRODUCT);
    await again.ended();
    expect(errorCodes(again.error), JSON.stringify(again.error)).toEqual(['UNAUTHENTICATED']);
    expect(again.results).toEqual([]);
    expect(connections, 'one socket throughout').toBe(1);
  });
});

describe('tokens never reach the logs', () => {
  it('after HTTP (gateway and subgraph), WebSocket and refused requests with tokens, no log line holds a token, its segments or its jti', async () => {
    const tokens: string[] = [];
    const callers: Caller[] = [shopper('cust-00060'), store(LOCATION), AGENT, FINANCE];
    for (const caller of callers) {
      const body = caller.role === 'shopper' ? { role: 'shopper', customerId: caller.customerId } : caller.role === 'store' ? { role: 'store', locationId: caller.locationId } : { role: caller.role };
      const token = await minted(body);
      tokens.push(token);
      expect((await post(stack.urls.gateway, PUBLIC_PRODUCT, bearer(token))).status).toBe(200);
      expect((await post(stack.urls.subgraphs.catalog, PUBLIC_PRODUCT, bearer(token))).status).toBe(200);
    }
    // Refused: a tampered copy of the shopper's token (its segments are the real token's).
    const [header, , signature] = tokens[0]!.split('.');
    const tampered = `${header}.${b64({ ...decodeJwt(tokens[0]!), sub: 'cust-00061' })}.${signature}`;
    expect((await post(stack.urls.gateway, PUBLIC_PRODUCT, bearer(tampered))).status).toBe(401);
    // Over WebSocket: one accepted, one refused.
    const ws = wsClient(stack.urls.gateway, { connectionParams: { authorization: `Bearer ${tokens[1]}` } });
    const wsRefused = wsClient(stack.urls.gateway, { connectionParams: { authorization: `Bearer ${tampered}` } });
    try {
      const ok = collect(ws, `{ product(id: "prod-0001") { id } }`);
      await ok.waitFor(1);
      const no = collect(wsRefused, contractOperation('StoreInventory'), { locationId: LOCATION });
      await no.ended();
    } finally {
      await ws.dispose();
      await wsRefused.dispose();
    }
    await until(() => stack.logs.some((l) => l.msg === 'websocket refused: token not accepted'), 5_000, 'the refusal to be logged');

    const text = stack.logs.map((l) => JSON.stringify(l)).join('\n');
    expect(stack.logs.some((l) => l.authorization === 'present')).toBe(true);
    expect(stack.logs.some((l) => l.level === 20), 'debug lines are captured too').toBe(true);
    for (const token of [...tokens, tampered]) {
      const [, claims, sig] = token.split('.');
      expect(text.includes(token), 'a whole token').toBe(false);
      expect(text.includes(claims!), 'a claims segment').toBe(false);
      expect(text.includes(sig!), 'a signature').toBe(false);
      expect(text.includes(String(decodeJwt(token).jti)), 'a jti').toBe(false);
    }
  });
});
