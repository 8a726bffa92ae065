import { fromGlobalId } from '../../common/global-id.js';
import { contractOperation } from '../../scripts/contract.js';
import { AGENT, errorsCoded, payloadOf, shopper, store, type ChaosClient, type GraphQLBody } from './client.js';
import type { Subscribers } from './subscribers.js';

/*
 * The steady mixed load of a chaos run: checkouts (PICKUP and SHIPPING), stock moves by store associates, pickups
 * (ready, handed over) and some returns and cancellations of the orders placed, and contract queries. Every write
 * carries an idempotency key and is retried as the same request until its answer is definite; what each one ended
 * with is recorded for the invariants.
 */

const PLACE_ORDER = contractOperation('PlaceOrder');
const ADJUST = contractOperation('AdjustStock');
const READY = contractOperation('ReadyForPickup');
const HAND_OVER = contractOperation('HandOver');
const CANCEL = contractOperation('CancelOrder');
const CREATE_RETURN = contractOperation('CreateReturn');
// The store app's receipt of a return is not in the contract (yet): the schema's own mutation.
const RECEIVE_RETURN = `mutation ChaosReceiveReturn($input: ReceiveReturnInput!) {
  receiveReturn(input: $input) { return { id status } userErrors { field message code } }
}`;
const STORE_STOCK = contractOperation('StoreStock');
const PICKUP_QUEUE = contractOperation('PickupQueue');
const PRODUCT_PAGE = contractOperation('ProductPage');
const ORDER_TIMELINE = contractOperation('OrderTimeline');
const MY_ACCOUNT = contractOperation('MyAccount');

export interface World {
  runId: string;
  /** Pickup-enabled stores the load uses. */
  stores: string[];
  warehouses: string[];
  skus: { sku: string; productId: string }[];
  /** Customers the checkouts use, one per checkout (so that a customer's orders are one key's orders). */
  customers: string[];
}

export interface CheckoutRecord {
  key: string;
  customerId: string;
  method: 'PICKUP' | 'SHIPPING';
  pickupLocationId: string | null;
  lines: { sku: string; quantity: number }[];
  /** `order`: accepted (an order came back); `rejected`: userErrors; `unresolved`: no definite answer by the deadline. */
  outcome: 'order' | 'rejected' | 'unresolved';
  orderId?: string;
  globalId?: string;
  status?: string;
  codes?: string[];
  attempts: number;
}

export interface MoveRecord {
  key: string;
  locationId: string;
  sku: string;
  reason: 'RECEIPT' | 'SALE';
  delta: number;
  /** true: applied; false: refused with userErrors; undefined: no definite answer. */
  applied: boolean | undefined;
  codes: string[];
}

export interface FollowUpRecord {
  orderId: string;
  step: 'ready' | 'handOver' | 'cancel' | 'createReturn' | 'receiveReturn';
  outcome: 'done' | 'refused' | 'unresolved';
  detail?: string;
  returnId?: string;
}

export interface LoadOptions {
  client: ChaosClient;
  world: World;
  subscribers: Subscribers;
  /** How many OrderTracking subscribers at most (two per accepted order, the first ones). */
  orderSubscribers: number;
  /** @default 1.2 */
  checkoutsPerSecond?: number;
  /** @default 2 */
  movesPerSecond?: number;
  /** @default 3 */
  queriesPerSecond?: number;
  /** Pseudo-random numbers of the run (seeded: the same choices for the same seed). */
  random: () => number;
}

export interface LoadStats {
  /**
   * `uncoded`: answers (a status and a body, not a dropped connection or a timeout) with an error that has no
   * `extensions.code`, or a 5xx/429 without coded errors; the first few described in `uncodedSamples`.
   */
  queries: { ok: number; failed: number; uncoded: number; uncodedSamples: string[]; byName: Record<string, { ok: number; failed: number }> };
  /** The least `onHand − committed − reserved − damaged` seen in any StoreStock answer or stock change. */
  minUnpromised: { value: number; where: string } | null;
}

/** The running load; `stop` stops new work and waits for what is in flight (bounded by `deadline`). */
export class Load {
  readonly checkouts: CheckoutRecord[] = [];
  readonly moves: MoveRecord[] = [];
  readonly followUps: FollowUpRecord[] = [];
  readonly stats: LoadStats = { queries: { ok: 0, failed: 0, uncoded: 0, uncodedSamples: [], byName: {} }, minUnpromised: null };
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopped = false;
  private loops: Promise<void>[] = [];
  private customerTurn = 0;
  private n = 0;
  /** Writes stop retrying at this time (epoch ms): the end of the settle window. */
  deadline = Number.POSITIVE_INFINITY;

  constructor(private readonly options: LoadOptions) {}

  start(): void {
    const { checkoutsPerSecond = 1.2, movesPerSecond = 2, queriesPerSecond = 3 } = this.options;
    this.loops = [this.every(1000 / checkoutsPerSecond, () => this.checkout()), this.every(1000 / movesPerSecond, () => this.move()), this.every(1000 / queriesPerSecond, () => this.query())];
  }

  async stop(deadline: number): Promise<void> {
    this.deadline = deadline;
    this.stopped = true;
    await Promise.all(this.loops);
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Start `work` every `ms` (without waiting for the last one: a slow answer must not slow the load). */
  private async every(ms: number, work: () => Promise<unknown>): Promise<void> {
    while (!this.stopped) {
      this.track(work());
      await new Promise((done) => setTimeout(done, ms * (0.5 + this.options.random())));
    }
  }

  private track(work: Promise<unknown>): void {
    const tracked = work.catch(() => undefined).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.options.random() * items.length)]!;
  }

  private key(kind: string): string {
    return `chaos-${this.options.world.runId}-${kind}-${++this.n}`;
  }

  private async checkout(): Promise<void> {
    const { client, world, random } = this.options;
    const customerId = world.customers[this.customerTurn++];
    if (!customerId) return;
    const method = random() < 0.6 ? 'PICKUP' : 'SHIPPING';
    const pickupLocationId = method === 'PICKUP' ? this.pick(world.stores) : null;
    const lineCount = random() < 0.7 ? 1 : 2;
    const skus = new Set<string>();
    while (skus.size < lineCount) skus.add(this.pick(world.skus).sku);
    const lines = [...skus].map((sku) => ({ sku, quantity: random() < 0.75 ? 1 : 2 }));
    const key = this.key('order');
    const input = { idempotencyKey: key, channel: 'WEB', deliveryMethod: method, customerId, ...(pickupLocationId ? { pickupLocationId } : {}), lines, ...(random() < 0.08 ? { paymentToken: 'tok_decline' } : {}) };
    const record: CheckoutRecord = { key, customerId, method, pickupLocationId, lines, outcome: 'unresolved', attempts: 0 };
    this.checkouts.push(record);
    const answer = await client.untilDefinite(shopper(customerId), PLACE_ORDER, { input }, (body) => payloadOf(body, 'placeOrder'), this.deadline);
    record.attempts = answer.attempts;
    if (answer.value === undefined) return;
    const payload = answer.value;
    if (payload.order) {
      Object.assign(record, { outcome: 'order', globalId: payload.order.id, orderId: fromGlobalId('Order', payload.order.id), status: payload.order.status });
      // The shopper follows the order on two devices, one through each gateway, until the subscribers are all taken.
      for (const device of [0, 1]) {
        if (this.options.subscribers.logs.filter((l) => l.kind === 'order').length < this.options.orderSubscribers) this.options.subscribers.order(payload.order.id, customerId, device);
      }
      // The order's own life goes on even once no new work starts (bounded by the deadline): a placed pickup is collected.
      if (method === 'PICKUP') this.track(this.pickup(record));
      else if (random() < 0.2) this.track(this.cancel(record));
    } else {
      Object.assign(record, { outcome: 'rejected', codes: payload.userErrors.map((e: { code: string }) => e.code) });
    }
  }

  /** A definite answer of an order move: the order, or INVALID_STATE (a repeat of a move that landed says so). */
  private async orderStep(record: CheckoutRecord, step: FollowUpRecord['step'], document: string, caller: Parameters<ChaosClient['untilDefinite']>[0], field: string, variables: Record<string, unknown>): Promise<FollowUpRecord> {
    const followUp: FollowUpRecord = { orderId: record.orderId!, step, outcome: 'unresolved' };
    this.followUps.push(followUp);
    const answer = await this.options.client.untilDefinite(caller, document, variables, (body: GraphQLBody) => payloadOf(body, field), this.deadline);
    if (answer.value === undefined) {
      followUp.detail = answer.last;
      return followUp;
    }
    const errors = answer.value.userErrors;
    followUp.outcome = errors.length === 0 ? 'done' : 'refused';
    if (errors.length) followUp.detail = errors.map((e) => `${e.code}: ${e.message}`).join('; ');
    if (answer.value.return?.id) followUp.returnId = answer.value.return.id;
    return followUp;
  }

  private async pickup(record: CheckoutRecord): Promise<void> {
    const { random } = this.options;
    const associate = store(record.pickupLocationId!);
    // The associate gets to it a little later, as a store does.
    await new Promise((done) => setTimeout(done, 500 + random() * 2500));
    const ready = await this.orderStep(record, 'ready', READY, associate, 'markReadyForPickup', { orderId: record.globalId });
    if (ready.outcome === 'unresolved' || (ready.outcome === 'refused' && !/READY_FOR_PICKUP/.test(ready.detail ?? ''))) return;
    await new Promise((done) => setTimeout(done, 300 + random() * 2000));
    const handOver = await this.orderStep(record, 'handOver', HAND_OVER, associate, 'confirmPickup', { orderId: record.globalId });
    if (handOver.outcome !== 'done' || random() >= 0.25) return;
    // Some customers bring it back: a return asked for by the shopper, received and refunded at the store.
    const created = await this.orderStep(record, 'createReturn', CREATE_RETURN, shopper(record.customerId), 'createReturn', {
      input: { idempotencyKey: this.key('return'), orderId: record.globalId, reason: 'chaos: changed my mind', lines: record.lines.slice(0, 1) },
    });
    if (created.outcome !== 'done' || !created.returnId) return;
    const received = await this.orderStep(record, 'receiveReturn', RECEIVE_RETURN, associate, 'receiveReturn', { input: { idempotencyKey: this.key('receipt'), returnId: created.returnId, condition: 'RESTOCK' } });
    received.returnId = created.returnId;
  }

  private async cancel(record: CheckoutRecord): Promise<void> {
    await new Promise((done) => setTimeout(done, 200 + this.options.random() * 2000));
    await this.orderStep(record, 'cancel', CANCEL, shopper(record.customerId), 'cancelOrder', { input: { idempotencyKey: this.key('cancel'), orderId: record.globalId, reason: 'chaos: not needed any more' } });
  }

  private async move(): Promise<void> {
    const { world, random } = this.options;
    const locationId = this.pick(world.stores);
    const { sku } = this.pick(world.skus);
    // Receipts a little more often than till sales, so that the shelves do not run dry for good.
    const reason = random() < 0.55 ? 'RECEIPT' : 'SALE';
    const units = 1 + Math.floor(random() * 3);
    await this.adjust(locationId, sku, reason, reason === 'RECEIPT' ? units : -units);
  }

  /** A stock movement by an associate of the store, retried until definite; recorded. */
  async adjust(locationId: string, sku: string, reason: 'RECEIPT' | 'SALE', delta: number): Promise<MoveRecord> {
    const key = this.key('move');
    const record: MoveRecord = { key, locationId, sku, reason, delta, applied: undefined, codes: [] };
    this.moves.push(record);
    const answer = await this.options.client.untilDefinite(store(locationId), ADJUST, { input: { idempotencyKey: key, locationId, sku, reason, delta } }, (body) => payloadOf(body, 'adjustInventory'), this.deadline);
    if (answer.value === undefined) return record;
    record.codes = answer.value.userErrors.map((e) => e.code);
    record.applied = record.codes.length === 0 && answer.value.level != null;
    return record;
  }

  private async query(): Promise<void> {
    const { client, world } = this.options;
    const placed = this.checkouts.filter((c) => c.outcome === 'order');
    const recent = placed.at(-1 - Math.floor(this.options.random() * Math.min(placed.length, 20)));
    const location = this.pick(world.stores);
    const choices: [string, () => ReturnType<ChaosClient['query']>][] = [
      ['ProductPage', () => client.query(null, PRODUCT_PAGE, { id: this.pick(world.skus).productId, locationIds: world.stores })],
      ['StoreStock', () => client.query(store(location), STORE_STOCK, { locationId: location, skus: world.skus.map((s) => s.sku) })],
      ['PickupQueue', () => client.query(store(location), PICKUP_QUEUE, { locationId: location })],
      ...(recent
        ? ([
            ['OrderTimeline', () => client.query(AGENT, ORDER_TIMELINE, { orderId: recent.globalId })],
            ['MyAccount', () => client.query(shopper(recent.customerId), MY_ACCOUNT, {})],
          ] as [string, () => ReturnType<ChaosClient['query']>][])
        : []),
    ];
    const [name, run] = this.pick(choices);
    const attempt = await run();
    const ok = attempt.ok && !attempt.body.errors?.length && attempt.body.data != null;
    const tally = (this.stats.queries.byName[name] ??= { ok: 0, failed: 0 });
    tally[ok ? 'ok' : 'failed']++;
    this.stats.queries[ok ? 'ok' : 'failed']++;
    const uncoded = attempt.ok ? !errorsCoded(attempt.body) : attempt.coded === false;
    if (uncoded) {
      this.stats.queries.uncoded++;
      if (this.stats.queries.uncodedSamples.length < 10) this.stats.queries.uncodedSamples.push(`${name}: ${attempt.ok ? `HTTP ${attempt.status} ${JSON.stringify(attempt.body.errors).slice(0, 300)}` : attempt.reason}`);
    }
    if (name === 'StoreStock' && attempt.ok) {
      for (const level of (attempt.body.data?.location?.inventoryLevels ?? []) as { sku: string; onHand: number; committed: number; reserved: number; damaged: number }[]) {
        this.sample(level.onHand - level.committed - level.reserved - level.damaged, `StoreStock ${location} ${level.sku}`);
      }
    }
  }

  /** One reading of what a level has not promised away (`onHand − committed − reserved − damaged`). */
  sample(value: number, where: string): void {
    if (!Number.isFinite(value)) return;
    if (!this.stats.minUnpromised || value < this.stats.minUnpromised.value) this.stats.minUnpromised = { value, where };
  }
}
