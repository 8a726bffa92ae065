import type { ResilienceRegistry } from '../../../common/resilience.js';
import type { OrderRecord } from '../../../common/systems/records.js';
import type { SandboxEcom } from '../../../sandbox/ecom.js';
import type { CommittedOrder, CommittedOrdersPort, ExceptionQuery, ExceptionRecord, ExceptionRegisterPort } from './ports.js';

/** The open statuses in which an online order holds its units (before hand-over or shipment). */
const HOLDING: readonly OrderRecord['status'][] = ['PLACED', 'CONFIRMED'];
/** Orders scanned per status: the sandbox holds tens of thousands at most. */
const SCAN_LIMIT = 100_000;

type Ecom = Pick<SandboxEcom, 'listByStatus' | 'recordException' | 'listExceptions'>;

/** Open online orders over the sandbox e-commerce system (a scan of its open orders; a real OMS answers by location). */
export class SandboxCommittedOrders implements CommittedOrdersPort {
  private readonly ecom: Ecom;
  constructor(ecom: Ecom, resilience: ResilienceRegistry) {
    this.ecom = resilience.wrap('ecom', ecom);
  }

  async openOrdersAt(locationId: string, skus: readonly string[]): Promise<CommittedOrder[][]> {
    const placedBefore = new Date(Date.now() + 86_400_000).toISOString();
    const open = (await Promise.all(HOLDING.map((status) => this.ecom.listByStatus(status, placedBefore, SCAN_LIMIT)))).flat();
    // What an order holds here: its lines, or a split order's part here (its other parts are held elsewhere).
    const heldHere = (o: (typeof open)[number]) => (o.fulfillments && o.fulfillments.length > 1 ? (o.fulfillments.find((p) => p.locationId === locationId && p.status === 'OPEN')?.lines ?? null) : o.fulfillmentLocationId === locationId ? o.lines : null);
    const atLocation = open.filter((o) => heldHere(o) !== null).sort((a, b) => (a.placedAt < b.placedAt ? 1 : a.placedAt > b.placedAt ? -1 : b.id.localeCompare(a.id)));
    return skus.map((sku) =>
      atLocation.flatMap((o) => {
        const quantity = (heldHere(o) ?? []).filter((l) => l.sku === sku).reduce((sum, l) => sum + l.quantity, 0);
        return quantity > 0 ? [{ orderId: o.id, orderNumber: o.number, placedAt: o.placedAt, quantity, pickup: o.deliveryMethod === 'PICKUP' }] : [];
      }),
    );
  }
}

/** The exception register of the sandbox e-commerce system. `recordException` is a write: never retried by the policy. */
export class SandboxExceptionRegister implements ExceptionRegisterPort {
  private readonly ecom: Ecom;
  constructor(ecom: Ecom, resilience: ResilienceRegistry) {
    this.ecom = resilience.wrap('ecom', ecom);
  }

  async record(exception: ExceptionRecord): Promise<ExceptionRecord> {
    const stored = await this.ecom.recordException(exception);
    return { ...stored, proposal: stored.proposal.map((p) => ({ ...p })) };
  }

  async list(query: ExceptionQuery): Promise<ExceptionRecord[]> {
    return (await this.ecom.listExceptions(query)).map((e) => ({ ...e, proposal: e.proposal.map((p) => ({ ...p })) }));
  }
}
