import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { retryDelayMs } from '../../common/backoff.js';
import type { ChaosCaller, ChaosClient } from './client.js';

/*
 * Subscribers as real apps run them: one socket each, through either gateway, reconnecting after an error or a
 * close and resuming with `after: <last sequence seen>` (part 6 of issue 12). Each keeps what it saw, in arrival
 * order, for invariant 5.
 */

/** With resume: the documents name `after` and `sequence`; without (before it lands), the contract's live documents. */
const INVENTORY_RESUME = `subscription ChaosStoreInventory($locationId: ID!, $after: Int) {
  inventoryChanged(locationId: $locationId, after: $after) { sequence sku reason delta level { onHand committed reserved damaged available } }
}`;
const ORDER_RESUME = `subscription ChaosOrderTracking($orderId: ID!, $after: Int) {
  orderStatusChanged(orderId: $orderId, after: $after) { sequence previousStatus status order { id status } }
}`;
const INVENTORY_LIVE = `subscription ChaosStoreInventoryLive($locationId: ID!) {
  inventoryChanged(locationId: $locationId) { sku reason delta level { onHand committed reserved damaged available } }
}`;
const ORDER_LIVE = `subscription ChaosOrderTrackingLive($orderId: ID!) {
  orderStatusChanged(orderId: $orderId) { previousStatus status order { id status } }
}`;

export interface SeenEvent {
  sequence: number | null;
  sku?: string;
  delta?: number;
  reason?: string;
  status?: string;
  /** What the level had not promised away after the change (`onHand − committed − reserved − damaged`). */
  unpromised?: number;
}

export interface SubscriberLog {
  id: string;
  kind: 'inventory' | 'order';
  /** The stream: a location id, or an order's global id. */
  stream: string;
  events: SeenEvent[];
  /** Sockets opened (1 + reconnects). */
  connections: number;
  /** Error codes (or close reasons) that ended a connection's subscription. */
  endings: string[];
}

export interface SubscriberOptions {
  client: ChaosClient;
  /** Whether the graph has part 6 (`after`, `sequence`). */
  resume: boolean;
}

/** A set of subscribers, started one by one, stopped all at once. */
export class Subscribers {
  readonly logs: SubscriberLog[] = [];
  private readonly running = new Set<Promise<void>>();
  private stopped = false;
  private readonly sockets = new Set<Client>();

  constructor(private readonly options: SubscriberOptions) {}

  /** StoreInventory for every change at `locationId`, as one of its associates. */
  inventory(locationId: string, gatewayIndex: number): SubscriberLog {
    return this.start('inventory', locationId, { role: 'store', locationId }, gatewayIndex);
  }

  /** OrderTracking of one order, as the shopper who placed it; with resume from the order's first change (`after: 0`). */
  order(orderId: string, customerId: string, gatewayIndex: number): SubscriberLog {
    return this.start('order', orderId, { role: 'shopper', customerId }, gatewayIndex);
  }

  private start(kind: SubscriberLog['kind'], stream: string, caller: ChaosCaller, gatewayIndex: number): SubscriberLog {
    const log: SubscriberLog = { id: `${kind}-${this.logs.length + 1}`, kind, stream, events: [], connections: 0, endings: [] };
    this.logs.push(log);
    const loop = this.loop(log, caller, gatewayIndex);
    this.running.add(loop);
    void loop.finally(() => this.running.delete(loop));
    return log;
  }

  private async loop(log: SubscriberLog, caller: ChaosCaller, gatewayIndex: number): Promise<void> {
    const { client, resume } = this.options;
    let failures = 0;
    // Each reconnect goes to the other gateway: resume must hold across instances, not only on one.
    let turn = gatewayIndex;
    while (!this.stopped) {
      const gateway = client.gateways[turn++ % client.gateways.length]!;
      const last = [...log.events].reverse().find((e) => e.sequence !== null)?.sequence;
      const variables: Record<string, unknown> = log.kind === 'inventory' ? { locationId: log.stream } : { orderId: log.stream };
      if (resume) {
        if (last !== undefined) variables.after = last;
        else if (log.kind === 'order') variables.after = 0;
      }
      const query = log.kind === 'inventory' ? (resume ? INVENTORY_RESUME : INVENTORY_LIVE) : resume ? ORDER_RESUME : ORDER_LIVE;
      log.connections++;
      const sawBefore = log.events.length;
      const ending = await this.once(gateway, caller, query, variables, log);
      if (this.stopped) break;
      log.endings.push(ending);
      failures = log.events.length > sawBefore ? 1 : failures + 1;
      await new Promise((done) => setTimeout(done, 100 + retryDelayMs(Math.min(failures, 6), 200, 3000)));
    }
  }

  /** One connection's subscription until it ends; resolves with why it ended. */
  private once(gateway: string, caller: ChaosCaller, query: string, variables: Record<string, unknown>, log: SubscriberLog): Promise<string> {
    const { client } = this.options;
    return new Promise((done) => {
      const socket = createClient({
        url: `${gateway.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: true,
        connectionParams: async () => ({ authorization: await client.bearer(caller) }),
      });
      this.sockets.add(socket);
      let settled = false;
      let markClosed: () => void = () => undefined;
      const closed = new Promise<void>((resolve) => (markClosed = resolve));
      const finish = (why: string) => {
        if (settled) return;
        settled = true;
        markClosed();
        this.sockets.delete(socket);
        void socket.dispose();
        done(why);
      };
      socket.subscribe<Record<string, any>>(
        { query, variables },
        {
          next: (result) => {
            const change = result.data?.inventoryChanged ?? result.data?.orderStatusChanged;
            if (result.errors?.length && !change) return finish(codeOf(result.errors));
            if (!change) return;
            log.events.push({
              sequence: typeof change.sequence === 'number' ? change.sequence : null,
              ...(log.kind === 'inventory'
                ? { sku: change.sku, delta: change.delta, reason: change.reason, unpromised: change.level ? change.level.onHand - change.level.committed - change.level.reserved - change.level.damaged : undefined }
                : { status: change.status }),
            });
          },
          error: (error) => finish(codeOf(error)),
          complete: () => finish('complete'),
        },
      );
      const hook = () => finish('stopped');
      this.closeHooks.add(hook);
      void closed.then(() => this.closeHooks.delete(hook));
    });
  }

  private readonly closeHooks = new Set<() => void>();

  /** End every subscriber and wait for their loops. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const hook of this.closeHooks) hook();
    for (const socket of this.sockets) void socket.dispose();
    await Promise.all([...this.running]);
  }
}

/** A short name for why a subscription ended: a GraphQL error code, a close code, or the error's message. */
function codeOf(error: unknown): string {
  if (Array.isArray(error)) {
    const first = error[0] as { extensions?: { code?: string }; message?: string } | undefined;
    return String(first?.extensions?.code ?? first?.message ?? 'error');
  }
  if (error && typeof error === 'object' && 'code' in error && typeof (error as { code: unknown }).code === 'number') return `close ${(error as { code: number }).code}`;
  if (error instanceof Error) return (error as Error & { code?: string }).code ?? error.message.slice(0, 80);
  if (error && typeof error === 'object' && 'type' in error) return `socket ${(error as { type: string }).type}`;
  return String(error).slice(0, 80);
}
