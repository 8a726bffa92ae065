import type { ResilienceRegistry } from '../../../common/resilience.js';
import { WRITE_METHODS } from '../../../common/systems/writes.js';
import type { SandboxSystems } from '../../../sandbox/index.js';
import { toOrderReturn, toOrderShipment, toSalesOrder } from '../adapters/sandbox-records.js';
import type { OrderStatusCode, OrderSystem, ReturnStatusCode } from '../ports.js';
import type { LifecycleStockPort, OrderStatusPort, PaymentSettlementPort, ReturnConditionCode, ReturnDeskPort, ReturnRequestOutcome, ShipmentWriterPort } from './ports.js';

/*
 * Thin adapters of the lifecycle ports over the sandbox systems. Writes are listed as writes so the resilience
 * policy never retries them (a retried hand-over or refund could land twice).
 */

const isWarehouse = (id: string) => id.startsWith('wh-');

type OrderBookWrites = Pick<SandboxSystems['pos'], 'compareAndSetStatus' | 'settleMove' | 'shipFulfillment' | 'listUnsettledMoves' | 'getReturns' | 'getReturnsByOrder' | 'createReturn' | 'setReturnStatus'>;

function orderBooks(systems: SandboxSystems, resilience: ResilienceRegistry): Record<OrderSystem, OrderBookWrites> {
  return {
    pos: resilience.wrap('pos', systems.pos, WRITE_METHODS.pos),
    ecom: resilience.wrap('ecom', systems.ecom, WRITE_METHODS.ecom),
  };
}

export class SandboxOrderStatusWriter implements OrderStatusPort {
  private readonly books: Record<OrderSystem, OrderBookWrites>;
  constructor(systems: SandboxSystems, resilience: ResilienceRegistry) {
    this.books = orderBooks(systems, resilience);
  }
  async moveStatus(system: OrderSystem, orderId: string, from: OrderStatusCode, to: OrderStatusCode, reference?: string | null) {
    const result = await this.books[system].compareAndSetStatus(orderId, from, to, reference);
    return result.ok ? { ok: true as const, value: toSalesOrder(result.record) } : { ok: false as const, current: result.record ? toSalesOrder(result.record) : null };
  }
  async settleMove(system: OrderSystem, orderId: string, reference: string): Promise<void> {
    await this.books[system].settleMove(orderId, reference);
  }
  async shipPart(system: OrderSystem, orderId: string, partId: string, shipmentId: string, reference: string) {
    const result = await this.books[system].shipFulfillment(orderId, partId, shipmentId, reference);
    return result.ok ? { ok: true as const, value: toSalesOrder(result.record) } : { ok: false as const, current: result.record ? toSalesOrder(result.record) : null };
  }
  async listUnsettledMoves(system: OrderSystem, before: string, limit: number) {
    return (await this.books[system].listUnsettledMoves(before, limit)).map(toSalesOrder);
  }
}

export class SandboxReturnDesk implements ReturnDeskPort {
  private readonly books: Record<OrderSystem, OrderBookWrites>;
  constructor(systems: SandboxSystems, resilience: ResilienceRegistry) {
    this.books = orderBooks(systems, resilience);
  }
  async getReturns(system: OrderSystem, returnIds: readonly string[]) {
    return (await this.books[system].getReturns(returnIds)).map((r) => (r ? toOrderReturn(r) : null));
  }
  async getReturnsByOrder(system: OrderSystem, orderId: string) {
    return ((await this.books[system].getReturnsByOrder([orderId]))[0] ?? []).map(toOrderReturn);
  }
  async request(system: OrderSystem, request: Parameters<ReturnDeskPort['request']>[1]): Promise<ReturnRequestOutcome> {
    const result = await this.books[system].createReturn({ orderId: request.orderId, reason: request.reason, lines: request.lines, requestedAt: request.requestedAt });
    if (result.ok) return { ok: true, value: toOrderReturn(result.record) };
    return result.reason === 'UNKNOWN_ORDER' ? { ok: false, reason: 'UNKNOWN_ORDER' } : { ok: false, reason: 'NOT_RETURNABLE', lines: result.lines };
  }
  async moveStatus(system: OrderSystem, returnId: string, from: ReturnStatusCode, to: ReturnStatusCode, at: string) {
    const result = await this.books[system].setReturnStatus(returnId, from, to, at);
    return result.ok ? { ok: true as const, value: toOrderReturn(result.record) } : { ok: false as const, current: result.record ? toOrderReturn(result.record) : null };
  }
}

/** Stock at stores is the POS's, at warehouses the WMS's. */
export class SandboxLifecycleStock implements LifecycleStockPort {
  private readonly pos: SandboxSystems['pos'];
  private readonly wms: SandboxSystems['wms'];
  constructor(systems: SandboxSystems, resilience: ResilienceRegistry) {
    this.pos = resilience.wrap('pos', systems.pos, WRITE_METHODS.pos);
    this.wms = resilience.wrap('wms', systems.wms, WRITE_METHODS.wms);
  }
  private at(locationId: string) {
    return isWarehouse(locationId) ? this.wms : this.pos;
  }
  async fulfil(locationId: string, lines: readonly { sku: string; quantity: number }[], reference?: string | null) {
    if (reference) await this.at(locationId).fulfillCommitment(locationId, reference);
    else await this.at(locationId).fulfillStock(locationId, lines);
  }
  async release(locationId: string, lines: readonly { sku: string; quantity: number }[], reference?: string | null) {
    if (reference) await this.at(locationId).releaseCommitment(locationId, reference);
    else await this.at(locationId).releaseStock(locationId, lines);
  }
  /**
   * One stock movement per line (the systems move one SKU at a time), each under the receipt's reference and its
   * index. Booked lines are not taken out again when a later one fails: the repeat books the rest (a booked line
   * answers its first result), where taking them out could not be told apart from a movement whose answer was lost.
   */
  async receive(locationId: string, lines: readonly { sku: string; quantity: number }[], condition: ReturnConditionCode, reference: string) {
    const system = this.at(locationId);
    for (const [i, line] of lines.entries()) {
      const result = await system.adjustStock({
        sku: line.sku,
        locationId,
        onHandDelta: line.quantity,
        damagedDelta: condition === 'DAMAGED' ? line.quantity : 0,
        reference: `${reference}-${i}`,
      });
      // Adding units only fails on a record already broken (damaged above on hand).
      if (!result.ok) throw new Error(`${isWarehouse(locationId) ? 'WMS' : 'POS'} refused to book ${line.quantity} × ${line.sku} in at ${locationId}: ${result.reason}`);
    }
  }
}

export class SandboxPaymentSettlement implements PaymentSettlementPort {
  private readonly psp: SandboxSystems['psp'];
  constructor(systems: SandboxSystems, resilience: ResilienceRegistry) {
    this.psp = resilience.wrap('psp', systems.psp, WRITE_METHODS.psp);
  }
  async voidAuthorizations(orderId: string) {
    return { voided: (await this.psp.voidPayment(orderId)).length };
  }
  async refund(request: Parameters<PaymentSettlementPort['refund']>[0]) {
    const refund = await this.psp.refund({ orderId: request.orderId, amountMinor: request.amount.minor, currency: request.amount.currency, reason: request.reason, reference: request.reference, createdAt: request.createdAt });
    return { refundId: refund.id, status: refund.status };
  }
}

export class SandboxShipmentWriter implements ShipmentWriterPort {
  private readonly wms: SandboxSystems['wms'];
  constructor(systems: SandboxSystems, resilience: ResilienceRegistry) {
    this.wms = resilience.wrap('wms', systems.wms, WRITE_METHODS.wms);
  }
  async recordShipment(request: Parameters<ShipmentWriterPort['recordShipment']>[0]) {
    return toOrderShipment(await this.wms.recordShipment(request));
  }
  async recordDelivery(orderId: string, deliveredAt: string) {
    return (await this.wms.recordDelivery(orderId, deliveredAt)).map(toOrderShipment);
  }
}
