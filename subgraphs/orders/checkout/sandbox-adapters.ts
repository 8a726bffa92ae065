import type { ChannelAllocationRule } from '../../../common/channels/channel-allocation-rule.js';
import { DefaultChannelAllocationRule } from '../../../common/channels/default-channel-allocation-rule.js';
import type { EventBackbone } from '../../../common/events.js';
import { EventOutbox, type EventEmitter } from '../../../common/outbox/event-outbox.js';
import type { IdempotencyStore } from '../../../common/idempotency.js';
import type { Logger } from '../../../common/logger.js';
import type { ResilienceRegistry } from '../../../common/resilience.js';
import { WRITE_METHODS } from '../../../common/systems/writes.js';
import { copyFulfillments, type OrderRecord } from '../../../common/systems/records.js';
import type { CommitmentReference } from '../../../common/systems/stock-book.js';
import type { SandboxSystems } from '../../../sandbox/index.js';
import { toSalesOrder } from '../adapters/sandbox-records.js';
import type { OrderSystem } from '../ports.js';
import type { CheckoutDeps } from './checkout.service.js';
import { DefaultAllocationStrategy } from './default-allocation-strategy.js';
import type { MasterDataStore } from '../../../common/master-data/store.js';
import { ReadModelPriceList, ReadModelSafetyStock } from './read-model-adapters.js';
import { TaxService, type TaxEnginePort, type TaxServiceOptions } from './tax.js';
import type { TaxAddress } from '../../../common/systems/tax.js';
import type { CustomerDirectoryPort, OrderDraft, OrderWriterPort, PaymentAuthorizationPort, SafetyStockPort, Site, SiteDirectoryPort, StockCommitPort } from './ports.js';

/*
 * Thin adapters of the checkout ports over the sandbox systems. Writes are listed as writes so the resilience
 * policy never retries them (a retried commitment or authorization could land twice).
 */

const isWarehouse = (id: string) => id.startsWith('wh-');

export class SandboxSiteDirectory implements SiteDirectoryPort {
  private readonly pos: SandboxSystems['pos'];
  private readonly wms: SandboxSystems['wms'];
  constructor(systems: SandboxSystems, resilience: ResilienceRegistry) {
    this.pos = resilience.wrap('pos', systems.pos);
    this.wms = resilience.wrap('wms', systems.wms);
  }
  async getSites(ids: readonly string[]): Promise<(Site | null)[]> {
    const stores = ids.filter((id) => !isWarehouse(id));
    const warehouses = ids.filter(isWarehouse);
    const [s, w] = await Promise.all([stores.length ? this.pos.getStores(stores) : [], warehouses.length ? this.wms.getWarehouses(warehouses) : []]);
    const byId = new Map([...s, ...w].filter((x) => x !== null).map((x) => [x.id, x]));
    return ids.map((id) => {
      const site = byId.get(id);
      return site ? { id: site.id, kind: site.type, pickupEnabled: site.pickupEnabled, address: { country: site.address.country, postalCode: site.address.postalCode } } : null;
    });
  }
  async listSites(kind: Site['kind']): Promise<Site[]> {
    const list = kind === 'WAREHOUSE' ? await this.wms.listWarehouses() : await this.pos.listStores();
    return list.map((site) => ({ id: site.id, kind: site.type, pickupEnabled: site.pickupEnabled, address: { country: site.address.country, postalCode: site.address.postalCode } })).sort((a, b) => (a.id < b.id ? -1 : 1));
  }
}

/** The tax engine: one quote per checkout, through the resilience path (read only: retried within its budget). */
export class SandboxTaxEngine implements TaxEnginePort {
  private readonly tax: SandboxSystems['tax'];
  constructor(systems: SandboxSystems, resilience: ResilienceRegistry) {
    this.tax = resilience.wrap('tax', systems.tax);
  }
  async quote(address: TaxAddress, lines: readonly { sku: string }[]) {
    const quote = await this.tax.quote({ address, lines: lines.map((l) => ({ sku: l.sku })) });
    return quote.jurisdiction === null ? null : { jurisdiction: quote.jurisdiction, lineRatesBp: quote.lineRatesBp };
  }
}

export class SandboxCustomerDirectory implements CustomerDirectoryPort {
  private readonly crm: SandboxSystems['crm'];
  constructor(systems: SandboxSystems, resilience: ResilienceRegistry) {
    this.crm = resilience.wrap('crm', systems.crm);
  }
  async exist(ids: readonly string[]) {
    return (await this.crm.getCustomers(ids)).map((c) => c !== null);
  }
}

/** Commitments at stores go to the POS, at warehouses to the WMS; the safety stock held back is the ERP's policy (its read model). */
export class SandboxStockCommitter implements StockCommitPort {
  private readonly pos: SandboxSystems['pos'];
  private readonly wms: SandboxSystems['wms'];
  constructor(
    systems: SandboxSystems,
    resilience: ResilienceRegistry,
    private readonly policies: SafetyStockPort,
  ) {
    this.pos = resilience.wrap('pos', systems.pos, WRITE_METHODS.pos);
    this.wms = resilience.wrap('wms', systems.wms, WRITE_METHODS.wms);
  }
  async commit(locationId: string, lines: readonly { sku: string; quantity: number; holdBack?: number | undefined }[], reference?: CommitmentReference | null) {
    const safetyStock = await this.policies.safetyStock(locationId, lines.map((l) => l.sku));
    const system = isWarehouse(locationId) ? this.wms : this.pos;
    return system.commitStock(locationId, lines.map((l, i) => ({ sku: l.sku, quantity: l.quantity, safetyStock: (safetyStock[i] ?? 0) + (l.holdBack ?? 0) })), reference ?? null);
  }
  async release(locationId: string, lines: readonly { sku: string; quantity: number }[], reference?: string | null) {
    const system = isWarehouse(locationId) ? this.wms : this.pos;
    if (reference) await system.releaseCommitment(locationId, reference);
    else await system.releaseStock(locationId, lines);
  }
  async settle(locationId: string, reference: string) {
    await (isWarehouse(locationId) ? this.wms : this.pos).settleCommitment(locationId, reference);
  }
  async releaseCommitment(locationId: string, reference: string, seenAt?: string) {
    return (isWarehouse(locationId) ? this.wms : this.pos).releaseCommitment(locationId, reference, seenAt);
  }
  async moveCommitment(fromLocationId: string, toLocationId: string, reference: string, lines: readonly { sku: string; quantity: number; holdBack?: number | undefined }[], at: string) {
    // Stores' stock is the POS's, warehouses' the WMS's: a move is atomic within one book, so never across the two.
    if (isWarehouse(fromLocationId) !== isWarehouse(toLocationId)) throw new RangeError(`a commitment moves between two stores or two warehouses, not ${fromLocationId} → ${toLocationId}`);
    const safetyStock = await this.policies.safetyStock(toLocationId, lines.map((l) => l.sku));
    const system = isWarehouse(toLocationId) ? this.wms : this.pos;
    return system.moveCommitment(fromLocationId, toLocationId, reference, lines.map((l, i) => ({ sku: l.sku, quantity: l.quantity, safetyStock: (safetyStock[i] ?? 0) + (l.holdBack ?? 0) })), at);
  }
  async openCommitments(before: string, limit: number) {
    // With Redis both systems keep their stock in one shared book: each answers for its own kind of location.
    const [stores, warehouses] = await Promise.all([this.pos.openCommitments(before, limit), this.wms.openCommitments(before, limit)]);
    return [...stores.filter((c) => !isWarehouse(c.locationId)), ...warehouses.filter((c) => isWarehouse(c.locationId))];
  }
}

export class SandboxPaymentAuthorizer implements PaymentAuthorizationPort {
  private readonly psp: SandboxSystems['psp'];
  constructor(systems: SandboxSystems, resilience: ResilienceRegistry) {
    this.psp = resilience.wrap('psp', systems.psp, WRITE_METHODS.psp);
  }
  async authorize(request: Parameters<PaymentAuthorizationPort['authorize']>[0]) {
    const payment = await this.psp.authorize({ orderId: request.orderId, amountMinor: request.amount.minor, currency: request.amount.currency, method: request.method, token: request.token, reference: request.reference ?? null });
    return { paymentId: payment.id, status: payment.status === 'DECLINED' ? ('DECLINED' as const) : ('AUTHORIZED' as const) };
  }
  async void(orderId: string) {
    await this.psp.voidPayment(orderId);
  }
}

export class SandboxOrderWriter implements OrderWriterPort {
  private readonly books: Record<OrderSystem, Pick<SandboxSystems['pos'], 'createOrder' | 'compareAndSetStatus' | 'settleMove' | 'listByStatus' | 'getOrdersByCheckout' | 'moveOrderLocation' | 'settleRelocation'>>;
  constructor(systems: SandboxSystems, resilience: ResilienceRegistry) {
    this.books = {
      pos: resilience.wrap('pos', systems.pos, WRITE_METHODS.pos),
      ecom: resilience.wrap('ecom', systems.ecom, WRITE_METHODS.ecom),
    };
  }
  async create(system: OrderSystem, draft: OrderDraft) {
    const record: Omit<OrderRecord, 'id' | 'number'> = {
      customerId: draft.customerId,
      channel: draft.channel,
      deliveryMethod: draft.deliveryMethod,
      status: draft.status,
      pickupLocationId: draft.pickupLocationId,
      fulfillmentLocationId: draft.fulfillmentLocationId,
      lines: draft.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPriceMinor: l.unitPrice.minor, ...(l.taxMinor !== undefined ? { taxMinor: l.taxMinor, taxRateBp: l.taxRateBp ?? 0 } : {}) })),
      currency: draft.total.currency,
      totalMinor: draft.total.minor,
      placedAt: draft.placedAt,
      correlationId: draft.correlationId,
      checkoutReference: draft.checkoutReference ?? null,
      ...(draft.tax ? { tax: draft.tax } : {}),
      ...(draft.shippingAddress ? { shippingAddress: draft.shippingAddress } : {}),
      ...(draft.marketplace ? { marketplace: { ...draft.marketplace } } : {}),
      ...(draft.fulfillments && draft.fulfillments.length > 1 ? { fulfillments: copyFulfillments(draft.fulfillments) } : {}),
    };
    return toSalesOrder(await this.books[system].createOrder(record));
  }
  async forCheckout(references: readonly string[]) {
    const [pos, ecom] = await Promise.all([this.books.pos.getOrdersByCheckout(references), this.books.ecom.getOrdersByCheckout(references)]);
    return references.map((_, i) => {
      const record = pos[i] ?? ecom[i] ?? null;
      return record ? toSalesOrder(record) : null;
    });
  }
  async listPlacedBefore(system: OrderSystem, before: string, limit: number) {
    return (await this.books[system].listByStatus('PLACED', before, limit)).map(toSalesOrder);
  }
  async moveLocation(system: OrderSystem, orderId: string, statuses: readonly OrderRecord['status'][], fromLocationId: string, toLocationId: string, reference: string) {
    const result = await this.books[system].moveOrderLocation(orderId, statuses, fromLocationId, toLocationId, reference);
    return { moved: result.ok, order: result.record ? toSalesOrder(result.record) : null };
  }
  async settleRelocation(system: OrderSystem, orderId: string, reference: string) {
    await this.books[system].settleRelocation(orderId, reference);
  }
  async compareAndSetStatus(system: OrderSystem, orderId: string, expected: OrderRecord['status'], status: OrderRecord['status'], reference?: string | null) {
    const result = await this.books[system].compareAndSetStatus(orderId, expected, status, reference);
    return { moved: result.ok, order: result.record ? toSalesOrder(result.record) : null };
  }
  async settleMove(system: OrderSystem, orderId: string, reference: string) {
    await this.books[system].settleMove(orderId, reference);
  }
}

/** The checkout's ports over the sandbox systems, with the default allocation strategy. */
export function sandboxCheckout(
  systems: SandboxSystems,
  resilience: ResilienceRegistry,
  shared: { idempotency: IdempotencyStore; backbone: EventBackbone; events?: EventEmitter | undefined; masterData: MasterDataStore; metrics?: CheckoutDeps['metrics']; tax?: TaxServiceOptions | undefined; channelRule?: ChannelAllocationRule | undefined },
  logger?: Logger,
): Omit<CheckoutDeps, 'loadOrder'> {
  const { masterData, events, tax, channelRule, ...infrastructure } = shared;
  return {
    prices: new ReadModelPriceList(masterData),
    sites: new SandboxSiteDirectory(systems, resilience),
    customers: new SandboxCustomerDirectory(systems, resilience),
    stock: new SandboxStockCommitter(systems, resilience, new ReadModelSafetyStock(masterData)),
    payments: new SandboxPaymentAuthorizer(systems, resilience),
    orders: new SandboxOrderWriter(systems, resilience),
    allocation: new DefaultAllocationStrategy(),
    channels: channelRule ?? new DefaultChannelAllocationRule(),
    tax: new TaxService(new SandboxTaxEngine(systems, resilience), tax),
    ...infrastructure,
    events: events ?? new EventOutbox({ backbone: infrastructure.backbone }),
    logger,
  };
}
