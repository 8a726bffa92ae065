import type { Random } from './random.js';
import { STORE_LOCATION, type FuzzWorld, type Who } from './cases.js';
import { anyValue, randomOperation } from './schema.js';
import { garbageBytes, hugeString, INVALID_UTF8, oddString } from './strings.js';

/*
 * The WebSocket half of the corpus: graphql-transport-ws sessions in orders the protocol forbids, frames that are
 * not text or not JSON or not UTF-8, frames over the size limit, and subscribe payloads of every wrong shape.
 * `{{AUTH}}` in a text frame is replaced by the case's bearer token when it is sent.
 */

export type WsStep =
  /** A text frame (a string) or a binary one (a Buffer). */
  | { send: string | Buffer }
  /** Wait for the server's next message or its close (bounded; silence is no failure). */
  | { await: true };

export interface WsCase {
  transport: 'ws';
  category: string;
  /** The subprotocol asked for; null asks for none. @default 'graphql-transport-ws' */
  protocol?: string | null;
  who: Who;
  steps: WsStep[];
}

const WS_ROLES: readonly Who[] = ['anonymous', { role: 'agent' }, { role: 'store', locationId: STORE_LOCATION }, { role: 'shopper', customerId: 'cust-00042' }];

const json = (value: unknown): WsStep => ({ send: JSON.stringify(value) });
const init = (payload: unknown = { authorization: '{{AUTH}}' }): WsStep => json({ type: 'connection_init', payload });
const AWAIT: WsStep = { await: true };

const STORE_SUB = `subscription { inventoryChanged(locationId: "${STORE_LOCATION}") { sku delta } }`;
const ORDER_SUB = 'subscription { orderStatusChanged(orderId: "ord-w000001") { status } }';

function subscribe(id: unknown, payload: unknown): WsStep {
  return json({ id, type: 'subscribe', payload });
}

/** One message of any kind the protocol has, or none of them, with fields right or wrong. */
function anyMessage(random: Random, world: FuzzWorld): WsStep {
  return random.weighted<() => WsStep>([
    [3, () => init()],
    [1, () => init(anyValue(random))],
    [3, () => subscribe(random.pick(['1', '2', 'a', '']), { query: random.pick([STORE_SUB, ORDER_SUB, '{ __typename }']) })],
    [2, () => subscribe(String(random.int(1, 3)), { query: randomOperation(world.schema, random, { maxDepth: 4, wrongness: 0.2 }).query })],
    [2, () => subscribe(anyValue(random), { query: '{ __typename }' })],
    [2, () => subscribe('1', anyValue(random))],
    [1, () => subscribe('1', { query: anyValue(random), variables: anyValue(random), operationName: anyValue(random), extensions: anyValue(random) })],
    [1, () => subscribe('1', { query: hugeString(random, random.int(100_001, 300_000)) })],
    [2, () => json({ id: random.pick(['1', '999', 'nope', '']), type: 'complete' })],
    [1, () => json({ type: 'complete' })],
    [2, () => json({ type: random.pick(['ping', 'pong']), payload: random.chance(0.5) ? anyValue(random) : undefined })],
    [1, () => json({ type: random.pick(['connection_ack', 'next', 'error', 'start', 'stop', 'connection_terminate', 'ka', '', 'SUBSCRIBE']), id: '1', payload: {} })],
    [1, () => json({ id: '1' })],
    [1, () => json(anyValue(random))],
    [1, () => ({ send: oddString(random) })],
    [1, () => ({ send: garbageBytes(random, random.int(1, 512)) })],
    [1, () => ({ send: Buffer.from(JSON.stringify({ type: 'connection_init', payload: { authorization: '{{AUTH}}' } })) })],
    [1, () => AWAIT],
  ])();
}

/** Sessions: ordered wrong on purpose (a subscribe before connection_init, a duplicate id, a second connection_init). */
export function wsSequenceCase(random: Random, world: FuzzWorld): WsCase {
  const who = random.pick(WS_ROLES);
  const pattern = random.weighted<() => WsStep[]>([
    [2, () => [subscribe('1', { query: STORE_SUB })]],
    [2, () => [init(), AWAIT, init()]],
    [1, () => [init(), init()]],
    [2, () => [init(), AWAIT, subscribe('1', { query: STORE_SUB }), subscribe('1', { query: STORE_SUB })]],
    [1, () => [init(), AWAIT, subscribe('1', { query: '{ __typename }' }), subscribe('1', { query: '{ __typename }' })]],
    [2, () => [init(), AWAIT, json({ id: 'never-subscribed', type: 'complete' }), json({ type: 'ping' })]],
    [1, () => [init(), AWAIT, subscribe('1', { query: STORE_SUB }), json({ id: '1', type: 'complete' }), json({ id: '1', type: 'complete' }), subscribe('1', { query: STORE_SUB })]],
    [1, () => [json({ type: 'ping' }), json({ type: 'pong' }), subscribe('1', { query: '{ __typename }' })]],
    [1, () => [init(), json({ type: 'connection_ack' })]],
    [1, () => [init(), AWAIT, json({ id: '1', type: 'next', payload: { data: {} } })]],
    [3, () => Array.from({ length: random.int(1, 8) }, () => anyMessage(random, world))],
    [2, () => [init(), AWAIT, ...Array.from({ length: random.int(1, 6) }, () => anyMessage(random, world))]],
  ])();
  return { transport: 'ws', category: 'ws.sequence', who, steps: pattern };
}

/** Frames that are not JSON text: binary, invalid UTF-8, empty, huge. */
export function wsFrameCase(random: Random): WsCase {
  const who = random.pick(WS_ROLES);
  const frame = random.weighted<() => string | Buffer>([
    [2, () => garbageBytes(random, random.int(1, 4096))],
    [2, () => random.pick(INVALID_UTF8)],
    [1, () => Buffer.concat([Buffer.from('{"type":"connection_init","payload":{"x":"'), random.pick(INVALID_UTF8), Buffer.from('"}}')])],
    [1, () => ''],
    [2, () => random.pick(['{', 'null', '[]', '1', '"connection_init"', '{"type":1}', '{"type":null}', `{"type":"connection_init","payload":${'['.repeat(5000)}${']'.repeat(5000)}}`])],
    // Frames over ws's 1 MB maxPayload, and one just under it: a megabyte each, so a few go a long way.
    [0.2, () => hugeString(random, random.int(1_100_000, 1_500_000))],
    [0.2, () => Buffer.alloc(random.int(1_048_577, 1_200_000), 0x7b)],
    [0.2, () => JSON.stringify({ type: 'connection_init', payload: { authorization: '{{AUTH}}', junk: hugeString(random, random.int(900_000, 1_040_000)) } })],
    [1, () => hugeString(random, random.int(10_000, 100_000))],
  ])();
  const before = random.chance(0.5) ? [init(), AWAIT] : [];
  return { transport: 'ws', category: 'ws.frames', who, steps: [...before, { send: frame }] };
}

/** Sign-in over the socket: tokens no verifier trusts, payloads of the wrong kind, the wrong subprotocol. */
export function wsInitCase(random: Random): WsCase {
  const who: Who = random.chance(0.5) ? { garbage: random.pick(['Bearer x.y.z', 'Bearer', '', 'Basic Zm9vOmJhcg==', `Bearer ${'A'.repeat(3000)}`]) } : random.pick(WS_ROLES);
  const payload = random.weighted<() => unknown>([
    [4, () => ({ authorization: '{{AUTH}}' })],
    [1, () => ({ Authorization: '{{AUTH}}', headers: { authorization: '{{AUTH}}' } })],
    [1, () => ({ authorization: anyValue(random) })],
    [1, () => anyValue(random)],
    [1, () => ({ authorization: '{{AUTH}}', 'x-correlation-id': random.pick(['', oddString(random), 'x'.repeat(5000)]) })],
  ])();
  const protocol = random.weighted<string | null>([[8, 'graphql-transport-ws'], [1, 'graphql-ws'], [1, null], [1, 'x']]);
  const after = random.chance(0.6) ? [AWAIT, subscribe('1', { query: random.pick([STORE_SUB, ORDER_SUB, '{ me { id } }']) }), AWAIT] : [];
  return { transport: 'ws', category: 'ws.init', who, protocol, steps: [init(payload), ...after] };
}

/** Seeded generators of the WebSocket categories, with their shares (out of the WebSocket part). */
export const WS_CATEGORIES: readonly { name: string; weight: number; make: (random: Random, world: FuzzWorld) => WsCase }[] = [
  { name: 'ws.sequence', weight: 55, make: wsSequenceCase },
  { name: 'ws.frames', weight: 25, make: wsFrameCase },
  { name: 'ws.init', weight: 20, make: wsInitCase },
];
