import type { GraphQLSchema } from 'graphql';
import type { ContractOperation } from '../../../scripts/contract.js';
import type { Caller } from '../stack.js';
import { Random } from './random.js';
import { anyValue, deepJson, KNOWN, randomOperation } from './schema.js';
import { fuzzString, garbageBytes, hugeString, INVALID_UTF8, oddString } from './strings.js';

/*
 * The HTTP half of the corpus: what a case is, and the generators of every category but the WebSocket ones
 * (ws-cases.ts). A generator is a function of a seeded Random: the same seed gives the same cases.
 */

/** Whom a case speaks as: nobody, a real token of a role, or an Authorization header no verifier can trust. */
export type Who = 'anonymous' | { garbage: string } | Caller;

export interface HttpCase {
  transport: 'http';
  category: string;
  method: string;
  /** The query string (with `?`), for GET and the odd POST. */
  search?: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  who: Who;
  /** A mutation the generator made defective: it must be refused, and change nothing (checked by the runner). */
  mutation?: boolean;
}

/** The seeded data a campaign aims at, found through the graph when it starts (orders by status, mostly). */
export interface FuzzWorld {
  schema: GraphQLSchema;
  contract: readonly ContractOperation[];
  /** Orders of the seeded data by status (native ids), as an agent sees them. */
  ordersByStatus: Record<string, string[]>;
  /** The customer and pickup store of some orders, for the callers that may act on them. */
  orderOwners: Record<string, { customerId: string | null; pickupLocationId: string | null }>;
  /** Seed and run, to make idempotency keys unique to the campaign. */
  seed: number;
}

export const STORE_LOCATION = 'store-003';
const OTHER_STORE = 'store-007';
const ROLES: readonly Who[] = ['anonymous', { role: 'agent' }, { role: 'finance' }, { role: 'shopper', customerId: 'cust-00042' }, { role: 'store', locationId: STORE_LOCATION }];

const JSON_HEADERS = { 'content-type': 'application/json' };

const post = (category: string, body: string | Buffer, who: Who = 'anonymous', headers: Record<string, string> = JSON_HEADERS): HttpCase => ({ transport: 'http', category, method: 'POST', headers, body, who });

const get = (category: string, params: Record<string, string>, who: Who = 'anonymous'): HttpCase => ({
  transport: 'http',
  category,
  method: 'GET',
  search: `?${new URLSearchParams(params).toString()}`,
  headers: {},
  who,
});

const SIMPLE = '{ product(id: "prod-0001") { id name } }';

/** Methods that are not GET, POST or OPTIONS. */
export function methodCase(random: Random): HttpCase {
  const method = random.pick(['PUT', 'DELETE', 'PATCH', 'HEAD', 'PROPFIND', 'FOO', 'CONNECTX', 'TRACK']);
  return { transport: 'http', category: 'http.method', method, headers: JSON_HEADERS, body: method === 'HEAD' ? undefined : JSON.stringify({ query: SIMPLE }), who: random.pick(ROLES) };
}

/** POSTs whose content type is not JSON, or is JSON spelled oddly. */
export function contentTypeCase(random: Random): HttpCase {
  const type = random.pick([
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/graphql',
    'application/jsonx',
    'application/json; charset=utf-16',
    'APPLICATION/JSON',
    'application/json;;;',
    'application/graphql-response+json',
    'application/xml',
    '*/*',
    '',
    oddString(random).replace(/[^\x20-\x7e]/g, ''),
  ]);
  const body = random.chance(0.5) ? JSON.stringify({ query: SIMPLE }) : `query=${encodeURIComponent(SIMPLE)}`;
  return post('http.content-type', body, random.pick(ROLES), type ? { 'content-type': type } : {});
}

/** Bodies that are not JSON, or JSON that is not an operation. */
export function malformedJsonCase(random: Random): HttpCase {
  const valid = JSON.stringify({ query: SIMPLE });
  const body = random.weighted<() => string | Buffer>([
    [3, () => valid.slice(0, random.int(0, valid.length - 1))],
    [1, () => `${valid}${random.pick(['x', '}', ',', '{}', '\u0000'])}`],
    [1, () => "{'query': '{ __typename }'}"],
    [1, () => '{"query": NaN}'],
    [1, () => '{"query": "{ __typename }" /* comment */}'],
    [1, () => `\ufeff${valid}`],
    [1, () => ''],
    [1, () => random.pick(['null', '1', '"a string"', 'true', '[]', '[1]', '[null]', '[[]]', '{}', '[{}]'])],
    [1, () => Buffer.concat([Buffer.from('{"query": "{ product(id: \\"'), random.pick(INVALID_UTF8), Buffer.from('\\") { id } }"}')])],
    [1, () => Buffer.from(valid, 'utf16le')],
    [1, () => garbageBytes(random, random.int(1, 2000))],
    [1, () => `{"query": "${'\\ud800'}"}`],
    [1, () => `{"query": "{ __typename }", "query": 1}`],
    [1, () => `{"variables": {"a": 1}, "__proto__": {"query": "{ __typename }"}}`],
  ])();
  return post('http.json.malformed', body, random.pick(ROLES));
}

/** JSON nested deep: the body itself, the variables, the extensions. */
export function deepJsonCase(random: Random): HttpCase {
  const depth = random.pick([100, 1_000, 10_000, 100_000]);
  const where = random.pick(['body', 'variables', 'extensions', 'batch']);
  let body: string;
  if (where === 'body' || where === 'batch') {
    const open = where === 'batch' ? '[' : random.pick(['[', '{"a":']);
    const close = open === '[' ? ']' : '}';
    body = `${open.repeat(depth)}1${close.repeat(depth)}`;
  } else {
    // Built as text: JSON.stringify of 100 000 levels would itself overflow the stack.
    const nested = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    body = `{"query": "query Q($a: String) { product(id: \\"prod-0001\\") { id } }", "${where}": {"a": ${nested}}}`;
  }
  if (random.chance(0.1)) body = JSON.stringify({ query: '{ __typename }', variables: { a: deepJson(random, 50) } });
  return post('http.json.deep', body, random.pick(ROLES));
}

/** Bodies over the limit, and just under it. */
export function oversizedCase(random: Random): HttpCase {
  const size = random.pick([1_000_001, 1_100_000, 2_500_000, 999_000]);
  const body = random.pick([
    () => JSON.stringify({ query: `{ __typename } # ${'x'.repeat(size)}` }),
    () => JSON.stringify({ query: 'query Q($q: String) { products(query: $q, first: 1) { totalCount } }', variables: { q: hugeString(random, size) } }),
    () => `[${Array.from({ length: Math.ceil(size / 40) }, () => '{"query":"{ __typename }"}').join(',')}]`,
  ])();
  return post('http.body.oversized', body, random.pick(ROLES));
}

/** JSON arrays of operations: empty, too many, mixed with garbage. */
export function batchCase(random: Random, world: FuzzWorld): HttpCase {
  const n = random.weighted([[1, 0], [6, random.int(1, 5)], [2, random.int(10, 11)], [1, random.int(12, 200)]]);
  // Past the batch limit the items are refused unread: plain ones, cheap to make.
  const items = Array.from({ length: n }, () =>
    n > 12 ? { query: SIMPLE } : random.weighted<() => unknown>([
      [4, () => ({ query: SIMPLE })],
      [3, () => randomOperation(world.schema, random, { maxDepth: 4, wrongness: 0.1 })],
      [1, () => ({ query: 'mutation { placeOrder(input: {}) { order { id } } }' })],
      [1, () => anyValue(random)],
      [1, () => ({ documentId: oddString(random) })],
    ])(),
  );
  return post('http.batch', JSON.stringify(items), random.pick(ROLES));
}

/** Well-formed JSON objects whose fields are of the wrong kind, missing or extra. */
export function requestFieldsCase(random: Random): HttpCase {
  const odd = () => anyValue(random);
  const body = random.weighted<() => Record<string, unknown>>([
    [2, () => ({ query: odd() })],
    [2, () => ({ query: SIMPLE, variables: random.pick(['{"a":1}', 'a string', 1, [1, 2], true]) })],
    [2, () => ({ query: SIMPLE, operationName: odd() })],
    [2, () => ({ query: SIMPLE, extensions: odd() })],
    [1, () => ({ query: SIMPLE, extensions: { persistedQuery: { version: 1, sha256Hash: oddString(random) } } })],
    [1, () => ({ extensions: { persistedQuery: { version: random.pick([1, 2, '1', null]), sha256Hash: 'a'.repeat(64) } } })],
    [2, () => ({ documentId: odd() })],
    [1, () => ({ documentId: `sha256:${'0'.repeat(64)}` })],
    [1, () => ({ query: SIMPLE, documentId: 'sha256:abc' })],
    [1, () => ({ variables: { id: 'prod-0001' } })],
    [1, () => ({ query: SIMPLE, [oddString(random) || 'x']: odd() })],
    [1, () => ({ query: 'query A { __typename } query B { __typename }', operationName: random.pick([undefined, 'C', '', 'A']) })],
    [1, () => ({ query: `query A { __typename } ${'query X { __typename } '.repeat(random.int(2, 50))}` })],
    [1, () => ({ query: random.pick(['', ' ', '#', '{', '}', '{}', 'query', 'subscription { x }', 'fragment F on Query { __typename }']) })],
  ])();
  return post('http.fields', JSON.stringify(body), random.pick(ROLES));
}

/** GET: queries in the URL, mutations and subscriptions that must not run there, JSON parameters that are not. */
export function getCase(random: Random, world: FuzzWorld): HttpCase {
  const who = random.pick(ROLES);
  return random.weighted<() => HttpCase>([
    [3, () => get('http.get', { query: randomOperation(world.schema, random, { maxDepth: 4, wrongness: 0.1 }).query }, who)],
    [2, () => get('http.get', { query: 'mutation M($i: CancelOrderInput!) { cancelOrder(input: $i) { userErrors { code } } }', variables: JSON.stringify({ i: { idempotencyKey: 'k', orderId: 'ord-w000001', reason: 'fuzz' } }) }, who)],
    [1, () => get('http.get', { query: 'subscription { inventoryChanged(locationId: "store-003") { sku } }' }, who)],
    [2, () => get('http.get', { query: 'query Q($id: ID!) { product(id: $id) { id } }', variables: random.pick(['{', '[]', '"x"', '1', '{"id": 1}', '{"id": null}', '%7B', oddString(random)]) }, who)],
    [1, () => get('http.get', { query: SIMPLE, extensions: random.pick(['{', '[]', '{"persistedQuery": 1}', oddString(random)]) }, who)],
    [1, () => get('http.get', { documentId: oddString(random) }, who)],
    [1, () => get('http.get', {}, who)],
    [1, () => ({ ...get('http.get', { query: SIMPLE }, who), search: `?query=${encodeURIComponent(SIMPLE)}&query=${encodeURIComponent('{ __typename }')}&operationName=%00%ff` })],
    [1, () => ({ ...get('http.get', {}, who), search: `?${random.pick(['%', '%zz', 'query=%E0%A4%A', '&&&', '=', 'query', `query=${'%7B'.repeat(2000)}`])}` })],
    [1, () => ({ ...get('http.url.huge', { query: `{ __typename } # ${'x'.repeat(random.pick([10_000, 20_000, 70_000]))}` }, who), category: 'http.url.huge' })],
  ])();
}

/** Authorization headers no verifier can trust, and correlation ids of every shape. */
export function headerCase(random: Random): HttpCase {
  const forged = (header: object, payload: object) => `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;
  const garbage = random.pick([
    'Bearer',
    'Bearer ',
    'bearer x',
    'Bearer x.y.z',
    'Basic YWRtaW46YWRtaW4=',
    `Bearer ${forged({ alg: 'none', typ: 'JWT' }, { sub: 'x', role: 'agent', exp: 9999999999 })}`,
    `Bearer ${forged({ alg: 'HS256', kid: 'nope' }, { sub: 'x', role: 'agent' })}sig`,
    `Bearer ${forged({ alg: 'RS256', kid: '../../etc/passwd' }, { role: 'finance' })}AAAA`,
    `Bearer ${'A'.repeat(random.int(100, 8000))}`,
    `Bearer ${oddString(random).replace(/[^\x20-\x7e]/g, '')}`,
    'Bearer ,Bearer x',
  ]);
  const headers: Record<string, string> = { ...JSON_HEADERS };
  if (random.chance(0.5)) headers['x-correlation-id'] = random.pick(['', ' ', 'x'.repeat(random.int(100, 6000)), '"><script>', oddString(random).replace(/[^\x20-\x7e]/g, ''), 'a\tb']);
  if (random.chance(0.2)) headers['x-apollo-operation-name'] = oddString(random).replace(/[^\x20-\x7e]/g, '');
  const who: Who = random.chance(0.8) ? { garbage } : random.pick(ROLES);
  return post('http.headers', JSON.stringify({ query: SIMPLE }), who, headers);
}

/** Random operations from the API schema, as random callers, over POST mostly. */
export function schemaCase(random: Random, world: FuzzWorld): HttpCase {
  const op = randomOperation(world.schema, random, { maxDepth: random.weighted([[6, 4], [3, 7], [1, 20]]), wrongness: random.pick([0, 0.05, 0.2, 0.6]) });
  const who = random.pick(ROLES);
  if (random.chance(0.2)) return get('schema.query', { query: op.query, variables: JSON.stringify(op.variables) }, who);
  return post('schema.query', JSON.stringify({ query: op.query, variables: op.variables, operationName: random.chance(0.9) ? 'Fuzz' : random.pick([null, 'Other', '']) }), who);
}

/** Documents nested deep, wide with aliases, or fragments that multiply (the shapes limits exist for). */
export function deepQueryCase(random: Random): HttpCase {
  const depth = random.pick([17, 30, 200, 5_000, 50_000]);
  const query = random.weighted<() => string>([
    [2, () => `{ product(id: "prod-0001") { ${'variants { product { '.repeat(Math.min(depth, 400))}id${' } }'.repeat(Math.min(depth, 400))} } }`],
    [2, () => `{ ${'a { '.repeat(depth)}b${' }'.repeat(depth)} }`],
    [1, () => `${'{'.repeat(depth)}${'}'.repeat(depth)}`],
    [1, () => `{ product(id: ${'['.repeat(depth)}"x"${']'.repeat(depth)}) { id } }`],
    [1, () => `{ ${Array.from({ length: random.pick([31, 100, 1000]) }, (_, i) => `a${i}: __typename`).join(' ')} }`],
    [1, () => `{ ${Array.from({ length: random.pick([31, 200]) }, (_, i) => `p${i}: product(id: "prod-000${i % 9}") { variants { availability { available } } }`).join(' ')} }`],
    [1, () => {
      // A fragment bomb: each fragment spreads the next twice, 2^n fields once expanded.
      const n = random.int(10, 40);
      const fragments = Array.from({ length: n }, (_, i) => `fragment F${i} on Product { ${i === n - 1 ? 'id' : `...F${i + 1} ...F${i + 1}`} }`);
      return `{ product(id: "prod-0001") { ...F0 } } ${fragments.join(' ')}`;
    }],
    [1, () => 'query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }'],
    [1, () => `{ __typename ${'@include(if: true) '.repeat(random.pick([10, 1000]))}}`],
    [1, () => `query Q(${Array.from({ length: random.pick([100, 3000]) }, (_, i) => `$v${i}: Int`).join(', ')}) { __typename }`],
    [1, () => `{ ${'x'.repeat(random.pick([1000, 100_000]))} }`],
    [1, () => `{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } }`],
  ])();
  return post('query.deep', JSON.stringify({ query }), random.pick(ROLES));
}

/** The contract's operations as written, with variables of the wrong type, missing, extra or odd. */
export function contractVariablesCase(random: Random, world: FuzzWorld): HttpCase {
  const op = random.pick(world.contract.filter((o) => o.kind !== 'subscription' || random.chance(0.1)));
  const variables = contractVariables(op, random);
  if (op.kind === 'mutation') {
    // A mutation here must never pass the edge: every one gets a defect the edge refuses (its input of the wrong kind).
    variables.input = random.pick<unknown>([null, 'input', 1, [], [{}]]);
    variables.orderId = random.pick<unknown>([null, {}, []]);
  }
  const who = random.pick(ROLES);
  const mutation = op.kind === 'mutation';
  return { ...post('contract.variables', JSON.stringify({ query: op.document, variables, operationName: op.name }), who), mutation };
}

function contractVariables(op: ContractOperation, random: Random): Record<string, unknown> {
  const names = [...op.document.matchAll(/\$(\w+):/g)].map((m) => m[1] as string);
  const variables: Record<string, unknown> = {};
  for (const name of names) {
    if (random.chance(0.15)) continue; // missing
    variables[name] = random.weighted<() => unknown>([
      [3, () => plausible(name, random)],
      [3, () => anyValue(random)],
      [2, () => fuzzString(random)],
    ])();
  }
  if (random.chance(0.3)) variables[random.pick(['extra', 'first', '__proto__', 'constructor', oddString(random) || 'z'])] = anyValue(random);
  return variables;
}

function plausible(name: string, random: Random): unknown {
  switch (name) {
    case 'id':
      return random.pick(KNOWN.products);
    case 'locationId':
      return random.pick(KNOWN.locations);
    case 'locationIds':
      return [random.pick(KNOWN.locations)];
    case 'orderId':
      return random.pick(KNOWN.orders);
    case 'number':
      return random.pick(KNOWN.orderNumbers);
    case 'skus':
      return [random.pick(KNOWN.skus)];
    case 'first':
      return random.int(-2, 102);
    case 'from':
    case 'to':
      return random.pick(['2024-01-01T00:00:00Z', '2030-01-01T00:00:00Z', 'yesterday']);
    default:
      return oddString(random);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Mutations with bad input, sent with real tokens: each must be refused (a 4xx, errors, or userErrors) and change
// nothing. Every case carries at least one defect that no valid request has; the runner checks the rest.
// ---------------------------------------------------------------------------------------------------------------

const MUTATIONS = {
  placeOrder: 'mutation PlaceOrder($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id status } userErrors { field message code } } }',
  adjustInventory: 'mutation AdjustStock($input: AdjustInventoryInput!) { adjustInventory(input: $input) { level { sku onHand available } userErrors { field message code } } }',
  cancelOrder: 'mutation CancelOrder($input: CancelOrderInput!) { cancelOrder(input: $input) { order { id status } userErrors { field message code } } }',
  createReturn: 'mutation CreateReturn($input: CreateReturnInput!) { createReturn(input: $input) { return { id status } userErrors { field message code } } }',
  markReadyForPickup: 'mutation ReadyForPickup($orderId: ID!) { markReadyForPickup(orderId: $orderId) { order { id status } userErrors { field message code } } }',
  confirmPickup: 'mutation HandOver($orderId: ID!) { confirmPickup(orderId: $orderId) { order { id status } userErrors { field message code } } }',
} as const;

export type MutationName = keyof typeof MUTATIONS;

/** Keys a valid request may carry (1 to 255 characters) and keys none may. */
const badKey = (random: Random): string => random.pick(['', 'k'.repeat(256), 'k'.repeat(random.int(256, 5000))]);
const goodKey = (random: Random, world: FuzzWorld, n: number): string => (random.chance(0.2) ? `${oddString(random, 3)}-${world.seed}-${n}`.slice(0, 255) || `k-${n}` : `fuzz-${world.seed}-${n}`);

/** An order of the seeded data in one of `statuses`, else an id no order has. */
function orderIn(world: FuzzWorld, random: Random, statuses: readonly string[]): string {
  const ids = statuses.flatMap((s) => world.ordersByStatus[s] ?? []);
  return ids.length ? random.pick(ids) : 'ord-w999999';
}

/** Orders that no move of these mutations may touch, whatever the input: finished ones, and ones that do not exist. */
const FINAL = ['CANCELLED', 'RETURNED', 'DELIVERED', 'PICKED_UP'];

export function mutationCase(random: Random, world: FuzzWorld, n: number): HttpCase {
  const name = random.pick(Object.keys(MUTATIONS) as MutationName[]);
  const { variables, who } = mutationInput(name, random, world, n);
  const body = JSON.stringify({ query: MUTATIONS[name], variables, operationName: MUTATIONS[name].split(/[ (]/)[1] });
  return { ...post(`mutation.${name}`, body, who), mutation: true };
}

function mutationInput(name: MutationName, random: Random, world: FuzzWorld, n: number): { variables: Record<string, unknown>; who: Who } {
  // A defect the edge refuses (the wrong kind of value), else a business rule the input breaks.
  const typeDefect = random.chance(0.35);
  switch (name) {
    case 'placeOrder': {
      const who: Who = random.weighted<Who>([[5, { role: 'shopper', customerId: 'cust-00042' }], [3, { role: 'agent' }], [1, { role: 'store', locationId: STORE_LOCATION }], [1, 'anonymous']]);
      const input: Record<string, unknown> = {
        idempotencyKey: goodKey(random, world, n),
        channel: random.pick(['WEB', 'MOBILE']),
        deliveryMethod: 'SHIPPING',
        lines: [{ sku: random.pick(['SKU-0001-1', 'SKU-0042-1']), quantity: 1 }],
        paymentToken: 'tok_visa',
      };
      if (typeDefect) return { who, variables: { input: typeBreak(input, random, { channel: 'NOPE', lines: 'SKU-0001-1', idempotencyKey: 42 }) } };
      random.weighted<() => void>([
        [2, () => (input.idempotencyKey = badKey(random))],
        [2, () => (input.lines = [])],
        [1, () => (input.lines = Array.from({ length: 101 }, (_, i) => ({ sku: `SKU-${String(i + 1).padStart(4, '0')}-1`, quantity: 1 })))],
        [2, () => (input.lines = [{ sku: 'SKU-0001-1', quantity: random.pick([0, -1, 1000, 2 ** 31 - 1, -(2 ** 31)]) }])],
        [2, () => (input.lines = [{ sku: random.pick(['SKU-9999-9', '', oddString(random), hugeString(random, 5000)]), quantity: 1 }])],
        [1, () => (input.lines = [{ sku: 'SKU-0001-1', quantity: 1 }, { sku: 'SKU-0001-1', quantity: 1 }])],
        [1, () => (input.deliveryMethod = 'PICKUP')],
        [1, () => Object.assign(input, { deliveryMethod: 'PICKUP', pickupLocationId: random.pick(['wh-01', 'store-999', oddString(random) || 'x']) })],
        [1, () => (input.pickupLocationId = 'store-003')],
        // Another customer's id is a shopper's defect only: an agent may order for any customer.
        [1, () => (input.customerId = typeof who === 'object' && 'role' in who && who.role === 'shopper' ? 'cust-00001' : random.pick(['cust-99999', 'x'.repeat(201)]))],
        [1, () => (input.paymentToken = 'x'.repeat(201))],
      ])();
      // An agent's unknown customer is UNKNOWN_CUSTOMER; a shopper's other customer FORBIDDEN: either way refused.
      return { who, variables: { input } };
    }
    case 'adjustInventory': {
      const who: Who = random.weighted<Who>([[6, { role: 'store', locationId: STORE_LOCATION }], [1, { role: 'agent' }], [1, { role: 'shopper', customerId: 'cust-00042' }], [1, 'anonymous']]);
      const input: Record<string, unknown> = { idempotencyKey: goodKey(random, world, n), locationId: STORE_LOCATION, sku: 'SKU-0001-1', reason: 'RECEIPT', delta: 1 };
      if (typeDefect) return { who, variables: { input: typeBreak(input, random, { reason: 'STOLEN', delta: '1', locationId: 3 }) } };
      random.weighted<() => void>([
        [2, () => (input.idempotencyKey = badKey(random))],
        [2, () => (input.delta = random.pick([0, 100_001, -100_001, 2 ** 31 - 1]))],
        [2, () => Object.assign(input, { reason: random.pick(['SALE', 'TRANSFER_OUT']), delta: random.int(1, 5) })],
        [2, () => Object.assign(input, { reason: random.pick(['RECEIPT', 'RETURN', 'DAMAGE', 'TRANSFER_IN']), delta: -random.int(1, 5) })],
        [1, () => Object.assign(input, { reason: 'CYCLE_COUNT', delta: 1, onHand: 5 })],
        [1, () => Object.assign(input, { reason: 'CYCLE_COUNT', delta: undefined, onHand: random.pick([-1, 1_000_001]) })],
        [1, () => Object.assign(input, { reason: 'CYCLE_COUNT', delta: undefined })],
        [2, () => (input.sku = random.pick(['SKU-9999-9', '', oddString(random) || '\u0000', hugeString(random, 3000)]))],
        [2, () => (input.locationId = random.pick([OTHER_STORE, 'wh-01', 'store-999', oddString(random) || '\ud800']))],
      ])();
      return { who, variables: { input } };
    }
    case 'cancelOrder': {
      const orderId = orderIn(world, random, FINAL);
      const owner = world.orderOwners[orderId]?.customerId;
      const who: Who = random.weighted<Who>([[4, { role: 'agent' }], [2, { role: 'shopper', customerId: owner ?? 'cust-00042' }], [1, { role: 'shopper', customerId: 'cust-00042' }], [1, { role: 'store', locationId: STORE_LOCATION }], [1, 'anonymous']]);
      const input: Record<string, unknown> = { idempotencyKey: goodKey(random, world, n), orderId, reason: 'fuzz' };
      if (typeDefect) return { who, variables: { input: typeBreak(input, random, { orderId: 7, reason: ['x'] }) } };
      random.weighted<() => void>([
        [2, () => (input.idempotencyKey = badKey(random))],
        [2, () => (input.reason = random.pick(['', 'r'.repeat(501), hugeString(random, 20_000)]))],
        [2, () => (input.orderId = random.pick(['ord-w999999', 'nonsense', '', oddString(random) || 'x', 'T3JkZXI6b3JkLXc5OTk5OTk']))],
        [3, () => (input.reason = oddString(random) || 'odd')],
      ])();
      return { who, variables: { input } };
    }
    case 'createReturn': {
      const orderId = orderIn(world, random, ['CANCELLED', 'CONFIRMED', 'PLACED', 'SHIPPED', 'READY_FOR_PICKUP']);
      const who: Who = random.weighted<Who>([[4, { role: 'agent' }], [1, { role: 'shopper', customerId: 'cust-00042' }], [1, { role: 'store', locationId: STORE_LOCATION }], [1, 'anonymous']]);
      const input: Record<string, unknown> = { idempotencyKey: goodKey(random, world, n), orderId, reason: 'fuzz', lines: [{ sku: 'SKU-0001-1', quantity: 1 }] };
      if (typeDefect) return { who, variables: { input: typeBreak(input, random, { lines: { sku: 'x' }, reason: null }) } };
      random.weighted<() => void>([
        [2, () => (input.idempotencyKey = badKey(random))],
        [2, () => (input.lines = random.pick<unknown>([[], [{ sku: 'SKU-9999-9', quantity: 1 }], [{ sku: 'SKU-0001-1', quantity: random.pick([0, -3, 1000]) }]]))],
        [1, () => (input.reason = random.pick(['', 'r'.repeat(501)]))],
        [3, () => (input.reason = oddString(random) || 'odd')],
      ])();
      return { who, variables: { input } };
    }
    case 'markReadyForPickup':
    case 'confirmPickup': {
      const who: Who = random.weighted<Who>([[5, { role: 'store', locationId: STORE_LOCATION }], [1, { role: 'agent' }], [1, { role: 'shopper', customerId: 'cust-00042' }], [1, 'anonymous']]);
      if (typeDefect) return { who, variables: { orderId: random.pick<unknown>([null, 1, {}, ['ord-w000001']]) } };
      // Orders that cannot move: finished ones, ones that do not exist, and orders of another store.
      const orderId = random.weighted<() => string>([
        [3, () => orderIn(world, random, FINAL)],
        [2, () => random.pick(['ord-w999999', '', oddString(random) || 'x', hugeString(random, 2000)])],
        [2, () => {
          const elsewhere = Object.entries(world.orderOwners).filter(([, o]) => o.pickupLocationId && o.pickupLocationId !== STORE_LOCATION).map(([id]) => id);
          return elsewhere.length ? random.pick(elsewhere) : 'ord-w999999';
        }],
      ])();
      return { who, variables: { orderId } };
    }
  }
}

/** The input with one field of the wrong kind, a required one missing, an unknown one added, or the whole of it wrong. */
function typeBreak(input: Record<string, unknown>, random: Random, wrong: Record<string, unknown>): unknown {
  return random.weighted<() => unknown>([
    [3, () => {
      const [field, value] = random.pick(Object.entries(wrong));
      return { ...input, [field]: value };
    }],
    [2, () => {
      const copy = { ...input };
      delete copy[random.pick(Object.keys(wrong))];
      return copy;
    }],
    [2, () => ({ ...input, [random.pick(['extra', 'customerID', 'quantity', '__proto__x'])]: 1 })],
    [1, () => ({ ...input, [random.pick(Object.keys(wrong))]: null })],
    [1, () => random.pick<unknown>([null, [input], JSON.stringify(input), 0])],
  ])();
}

/** Seeded generators of the HTTP categories, with their shares of a campaign (out of the HTTP part). */
export const HTTP_CATEGORIES: readonly { name: string; weight: number; make: (random: Random, world: FuzzWorld, n: number) => HttpCase }[] = [
  { name: 'schema.query', weight: 30, make: schemaCase },
  { name: 'contract.variables', weight: 14, make: contractVariablesCase },
  { name: 'query.deep', weight: 7, make: deepQueryCase },
  { name: 'http.method', weight: 3, make: methodCase },
  { name: 'http.content-type', weight: 5, make: contentTypeCase },
  { name: 'http.json.malformed', weight: 8, make: malformedJsonCase },
  { name: 'http.json.deep', weight: 3, make: deepJsonCase },
  { name: 'http.body.oversized', weight: 0.6, make: oversizedCase },
  { name: 'http.batch', weight: 5, make: batchCase },
  { name: 'http.fields', weight: 8, make: requestFieldsCase },
  { name: 'http.get', weight: 8, make: getCase },
  { name: 'http.headers', weight: 6, make: headerCase },
];

export { Random };
