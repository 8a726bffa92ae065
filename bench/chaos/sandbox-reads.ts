import type { OrderRecord, PostingRecord, RefundRecord, ReturnRecord, StockKey, StockPolicy, StockRecord } from '../../common/systems/records.js';

/*
 * What the systems of record hold, read from the sandbox process's RPC API (`POST /sandbox/rpc/<system>/<method>`):
 * the ground truth the invariants compare the clients' view against. Read after the faults are cleared; a read
 * that still meets a transient error is asked again a few times.
 */

export async function rpc<T>(sandbox: string, system: string, method: string, args: unknown[]): Promise<T> {
  let last = '';
  for (let attempt = 0; attempt < 8; attempt++) {
    try {
      const response = await fetch(`${sandbox}/sandbox/rpc/${system}/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ args }), signal: AbortSignal.timeout(15_000) });
      const body = (await response.json()) as { result?: T; error?: string };
      if (response.ok) return body.result as T;
      last = `${response.status} ${body.error}`;
      if (response.status < 500 && response.status !== 429) break;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((done) => setTimeout(done, 250 * (attempt + 1)));
  }
  throw new Error(`sandbox ${system}.${method} failed: ${last}`);
}

const chunks = <T>(items: readonly T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** Each customer's orders, in the POS and in the e-commerce order system. */
export async function ordersOf(sandbox: string, customerIds: readonly string[]): Promise<Map<string, OrderRecord[]>> {
  const byCustomer = new Map<string, OrderRecord[]>(customerIds.map((id) => [id, []]));
  for (const part of chunks(customerIds, 200)) {
    for (const system of ['ecom', 'pos']) {
      const lists = await rpc<OrderRecord[][]>(sandbox, system, 'getOrdersByCustomer', [part]);
      part.forEach((id, i) => {
        const seen = byCustomer.get(id)!;
        for (const order of lists[i] ?? []) if (!seen.some((o) => o.id === order.id)) seen.push(order);
      });
    }
  }
  return byCustomer;
}

/** Per order id, a list from a batch method (`getPostingsByOrder`, `getReturnsByOrder`, `getRefundsByOrder`). */
async function perOrder<T>(sandbox: string, systems: readonly string[], method: string, orderIds: readonly string[]): Promise<Map<string, T[]>> {
  const out = new Map<string, T[]>(orderIds.map((id) => [id, []]));
  for (const part of chunks(orderIds, 200)) {
    for (const system of systems) {
      const lists = await rpc<T[][]>(sandbox, system, method, [part]);
      part.forEach((id, i) => out.get(id)!.push(...(lists[i] ?? [])));
    }
  }
  return out;
}

export const postingsOf = (sandbox: string, orderIds: readonly string[]) => perOrder<PostingRecord>(sandbox, ['erp'], 'getPostingsByOrder', orderIds);
export const returnsOf = (sandbox: string, orderIds: readonly string[]) => perOrder<ReturnRecord>(sandbox, ['ecom'], 'getReturnsByOrder', orderIds);
export const refundsOf = (sandbox: string, orderIds: readonly string[]) => perOrder<RefundRecord>(sandbox, ['psp'], 'getRefundsByOrder', orderIds);

/** Stock records of the keys (stores through the POS, warehouses through the WMS: one shared book either way). */
export async function stockOf(sandbox: string, keys: readonly StockKey[], warehouses: ReadonlySet<string>): Promise<Map<string, StockRecord | null>> {
  const out = new Map<string, StockRecord | null>();
  for (const system of ['pos', 'wms'] as const) {
    const mine = keys.filter((k) => warehouses.has(k.locationId) === (system === 'wms'));
    if (mine.length === 0) continue;
    const records = await rpc<(StockRecord | null)[]>(sandbox, system, 'getStock', [mine]);
    mine.forEach((k, i) => out.set(keyOf(k), records[i] ?? null));
  }
  return out;
}

export async function policiesOf(sandbox: string, keys: readonly StockKey[]): Promise<Map<string, StockPolicy | null>> {
  const records = await rpc<(StockPolicy | null)[]>(sandbox, 'erp', 'getStockPolicies', [keys]);
  return new Map(keys.map((k, i) => [keyOf(k), records[i] ?? null]));
}

export const keyOf = (k: StockKey): string => `${k.sku}@${k.locationId}`;
