import { forbiddenError } from '../../../common/auth/authorization.js';
import type { ChannelAllocationRule } from '../../../common/channels/channel-allocation-rule.js';
import { runInScope } from '../../../common/correlation.js';
import { createEvent, type StockLineData } from '../../../common/events.js';
import { callerKeyDigest, type CallerScope } from '../../../common/idempotency.js';
import { userError, type UserErrorValue } from '../../../common/idempotent-mutation.js';
import { stockLinesOf, stockSourceOf } from '../canonical-events.js';
import type { AllocationStrategy } from '../checkout/allocation-strategy.js';
import type { SiteDirectoryPort } from '../checkout/ports.js';
import { isSplit } from '../fulfillments.js';
import { MAX_LINES } from '../line-rules.js';
import type { OrderSystem, SalesOrder } from '../ports.js';
import { systemOfOrderId } from '../routing.js';
import { CHANGEABLE_STATUSES, finish, MAX_ID_LENGTH, putBack, relocationMutation, type PickupChangeDeps, type PickupChangeOutcome } from './pickup-change.js';
import { shortDigest } from '../../../common/digest.js';

/*
 * A pick shortage (issue 13): the associate picking a shipped order (SHIPPING from a warehouse, SHIP_FROM_STORE from
 * a store) finds less on the shelf than the stock book said. The order is rerouted: its commitment moves, all or
 * nothing, to the nearest other location of the same kind that can take every line (the routing strategy's order,
 * to the shipping address), through the same steps and recovery as a change of pickup store (pickup-change.ts):
 * the stock book's move first, then the order's location by compare-and-swap, then the events (ORDER_REROUTED,
 * INVENTORY_RELEASED at the old location, INVENTORY_RESERVED at the new), then both settled. When no location can
 * take it, nothing moves and the order goes to customer service: ORDER_EXCEPTION_RAISED REROUTE_FAILED, recorded in
 * the exception register. The order is moved whole: split shipments are not made (README "Routing and rerouting").
 *
 * The shortage itself is counted by the associate's cycle count (`adjustStock`), before or after: the reroute
 * releases the order's units at the old location, which a count made first leaves unsellable.
 */

export interface PickShortageDeps extends PickupChangeDeps {
  sites: Pick<SiteDirectoryPort, 'getSites' | 'listSites'>;
  /** The routing strategy checkout routes with; here its `commit` moves the order's commitment. */
  allocation: AllocationStrategy;
  /** The order's channel rule: a rerouted order may only go where its channel sells, holding back what it holds back. */
  channels: ChannelAllocationRule;
}

export interface ReportPickShortageRequest {
  idempotencyKey: string;
  orderId: string;
  /** What the shelf lacked: SKUs of the order, each 1 to the quantity ordered. */
  lines: { sku: string; quantity: number }[];
}

/** The reroute's reference: the order and a digest of the caller's key (only a retry under that key resumes it). */
export const rerouteReferenceOf = (scope: CallerScope, orderId: string, key: string): string => `${orderId}:REROUTE:${callerKeyDigest(scope, key)}`;

/** The REROUTE_FAILED exception of one report: one per order and reference. */
export const rerouteFailedExceptionId = (orderId: string, reference: string): string => `exc-reroute-${orderId}-${shortDigest(reference, 12)}`;

/**
 * `reportPickShortage`: reroute a CONFIRMED (or PLACED) shipped order whose shelf came up short. Answers the order
 * at its new location; REROUTE_FAILED (an exception is open for customer service) when no location can take it;
 * INVALID_STATE (a pickup order, or one past picking), INVALID_INPUT (lines not on the order). Through the one
 * idempotency kernel: the same key and input replay the first answer and move nothing.
 */
export async function reportPickShortage(deps: PickShortageDeps, scope: CallerScope, request: ReportPickShortageRequest): Promise<PickupChangeOutcome> {
  const input = { orderId: request.orderId, lines: request.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })) };
  return relocationMutation(deps, scope, 'reportPickShortage', request.idempotencyKey, input, () => run(deps, scope, request.idempotencyKey, input));
}

const failure = (error: UserErrorValue): PickupChangeOutcome => ({ order: null, userErrors: [error] });

function lineErrors(order: SalesOrder, lines: readonly StockLineData[]): UserErrorValue | null {
  if (lines.length < 1 || lines.length > MAX_LINES) return userError('INVALID_INPUT', `lines lists 1 to ${MAX_LINES} short SKUs`, 'lines');
  const seen = new Set<string>();
  for (const [i, line] of lines.entries()) {
    const ordered = order.lines.filter((l) => l.sku === line.sku).reduce((sum, l) => sum + l.quantity, 0);
    if (seen.has(line.sku)) return userError('INVALID_INPUT', `${line.sku} is listed twice`, `lines.${i}.sku`);
    seen.add(line.sku);
    if (ordered === 0) return userError('INVALID_INPUT', `${line.sku.slice(0, MAX_ID_LENGTH)} is not on order ${order.id}`, `lines.${i}.sku`);
    if (!Number.isSafeInteger(line.quantity) || line.quantity < 1 || line.quantity > ordered) return userError('INVALID_INPUT', `quantity is 1 to the ${ordered} ordered`, `lines.${i}.quantity`);
  }
  return null;
}

async function run(deps: PickShortageDeps, scope: CallerScope, key: string, input: { orderId: string; lines: StockLineData[] }): Promise<PickupChangeOutcome> {
  const system = input.orderId.length <= MAX_ID_LENGTH ? systemOfOrderId(input.orderId) : null;
  const order = system ? ((await deps.orderBooks[system].getOrders([input.orderId]))[0] ?? null) : null;
  const access = order ? deps.access(order, 'report-shortage') : 'hide';
  if (!system || !order || access === 'hide') return failure(userError('INVALID_INPUT', `no order ${input.orderId.slice(0, MAX_ID_LENGTH)}`, 'orderId'));
  if (access === 'forbid') throw forbiddenError(`this caller may not report a pick shortage of order ${order.id} (it is not picked at their location)`);
  const invalid = lineErrors(order, input.lines);
  if (invalid) return failure(invalid);
  return runInScope({ correlationId: order.correlationId, authorization: scope.authorization }, () => reroute(deps, system, order, input.lines, rerouteReferenceOf(scope, order.id, key)));
}

/** Thrown out of the strategy's loop: the commitment is gone (the order was cancelled meanwhile), no candidate can help. */
class CommitmentGone extends Error {}

async function reroute(deps: PickShortageDeps, system: OrderSystem, order: SalesOrder, shortLines: StockLineData[], reference: string): Promise<PickupChangeOutcome> {
  const now = deps.now ?? (() => new Date());
  const earlier = order.lastRelocation;
  if (earlier?.reference === reference) {
    // This very reroute landed in the order system and what follows did not finish (a lost answer, a crash): resume.
    if (!earlier.settled) await finish(deps, system, order, earlier.fromLocationId, earlier.toLocationId, reference, now(), shortLines);
    return { order, userErrors: [] };
  }
  if (order.deliveryMethod === 'PICKUP') return failure(userError('INVALID_STATE', `order ${order.id} is a pickup order: its store is changed with changePickupLocation`));
  if (isSplit(order)) return failure(userError('INVALID_STATE', `order ${order.id} ships in parts; a part is not rerouted (customer service decides)`));
  if (!CHANGEABLE_STATUSES.includes(order.status)) return failure(userError('INVALID_STATE', `order ${order.id} cannot be rerouted once it is ${order.status}`));
  if (!order.checkoutReference) return failure(userError('INVALID_STATE', `order ${order.id} was placed before stock commitments carried references; its stock cannot move`));
  const commitment = order.checkoutReference;
  const from = order.fulfillmentLocationId;
  const [fromSite] = await deps.sites.getSites([from]);
  if (!fromSite) return failure(userError('INVALID_STATE', `order ${order.id} leaves from ${from}, which no system knows`));
  const candidates = (await deps.sites.listSites(fromSite.kind)).filter((site) => site.id !== from && deps.channels.eligible(order.channel, site));
  const lines = stockLinesOf(order);
  const at = now().toISOString();
  let allocated: Awaited<ReturnType<AllocationStrategy['allocate']>>;
  try {
    allocated = await deps.allocation.allocate(
      candidates,
      lines,
      {
        commit: async (to, commitLines) => {
          const moved = await deps.stock.moveCommitment(from, to, commitment, commitLines.map((l) => ({ ...l, holdBack: deps.channels.holdBack(order.channel, to, l.sku) })), at);
          if (moved.ok) return { ok: true };
          if (moved.reason === 'NOT_FOUND') throw new CommitmentGone();
          return { ok: false, shortages: moved.shortages };
        },
      },
      order.shippingAddress ?? fromSite.address ?? null,
    );
  } catch (error) {
    if (!(error instanceof CommitmentGone)) throw error;
    const current = (await deps.orderBooks[system].getOrders([order.id]))[0] ?? null;
    return failure(userError('INVALID_STATE', `order ${order.id} holds no stock at ${from} to move (${current?.status ?? 'gone'})`));
  }
  if (!('locationId' in allocated)) return raiseRerouteFailed(deps, order, shortLines, reference, now());
  const to = allocated.locationId;
  const relocated = await deps.orders.moveLocation(system, order.id, CHANGEABLE_STATUSES, from, to, reference);
  if (!relocated.moved) {
    // The order moved on meanwhile (cancelled, shipped, rerouted by another report): the units follow the order as it is.
    await putBack(deps, commitment, from, to, relocated.order, now());
    return failure(userError('INVALID_STATE', `order ${order.id} changed meanwhile (${relocated.order?.status ?? 'gone'}); it still leaves from ${relocated.order?.fulfillmentLocationId ?? from}`));
  }
  const changed = relocated.order ?? { ...order, fulfillmentLocationId: to };
  await finish(deps, system, changed, from, to, reference, now(), shortLines);
  deps.logger?.info({ orderId: order.id, from, to, shortLines }, 'order rerouted after a pick shortage');
  return { order: changed, userErrors: [] };
}

/** Nowhere can take the order: it stays where it is, and customer service gets an exception (with its event). */
async function raiseRerouteFailed(deps: PickShortageDeps, order: SalesOrder, shortLines: StockLineData[], reference: string, at: Date): Promise<PickupChangeOutcome> {
  const exceptionId = rerouteFailedExceptionId(order.id, reference);
  const short = shortLines.map((l) => `${l.quantity} × ${l.sku}`).join(', ');
  const detail = `${order.fulfillmentLocationId} is short of ${short} for order ${order.number}, and no other location can take the order: call the customer (wait, substitute or cancel)`;
  await deps.events.emit([
    createEvent('ORDER_EXCEPTION_RAISED', { exceptionId, kind: 'REROUTE_FAILED', detail }, { id: `evt-${exceptionId}`, orderId: order.id, locationId: order.fulfillmentLocationId, sku: shortLines[0]?.sku, source: stockSourceOf(order.fulfillmentLocationId), correlationId: order.correlationId, occurredAt: at }),
  ]);
  deps.logger?.warn({ orderId: order.id, locationId: order.fulfillmentLocationId, shortLines, exceptionId }, 'pick shortage: no location can take the order; exception raised');
  return failure(userError('REROUTE_FAILED', `no other location can take order ${order.number}; exception ${exceptionId} is open for customer service`));
}
