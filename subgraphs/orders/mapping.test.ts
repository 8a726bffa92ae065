import { describe, expect, it } from 'vitest';
import type { ShipmentRecord } from '../../common/systems/records.js';
import { generateSeedData } from '../../sandbox/seed.js';
import { toOrderShipment, toSalesOrder } from './adapters/sandbox-records.js';
import { lineTotal, orderTotal, toOrder } from './mapping.js';

const data = generateSeedData({ seed: 42, scale: 0.05 });

describe('order mapping', () => {
  it('sums the lines to exactly the total each order system recorded', () => {
    for (const record of data.orders) expect([record.id, orderTotal(toSalesOrder(record)).minor]).toEqual([record.id, record.totalMinor]);
  });

  it('prices a line as quantity × unit price in minor units', () => {
    expect(lineTotal({ sku: 'SKU-1', quantity: 3, unitPrice: { minor: 1999, currency: 'EUR' } })).toEqual({ minor: 5997, currency: 'EUR' });
    const order = toOrder(toSalesOrder(data.orders.find((o) => o.lines.some((l) => l.quantity > 1))!));
    const line = order.lines.find((l) => l.quantity > 1)!;
    expect(Number(line.lineTotal.amount)).toBeCloseTo(Number(line.unitPrice.amount) * line.quantity, 2);
  });

  it('refers to locations, the customer and variants by key only', () => {
    const pickup = data.orders.find((o) => o.deliveryMethod === 'PICKUP')!;
    const shipped = data.orders.find((o) => o.deliveryMethod === 'SHIPPING')!;
    const anonymous = data.orders.find((o) => o.customerId === null)!;
    expect(toOrder(toSalesOrder(pickup)).pickupLocation).toEqual({ id: pickup.pickupLocationId });
    expect(toOrder(toSalesOrder(shipped))).toMatchObject({ pickupLocation: null, fulfillmentLocation: { id: shipped.fulfillmentLocationId }, customer: { id: shipped.customerId } });
    expect(toOrder(toSalesOrder(anonymous)).customer).toBeNull();
    expect(toOrder(toSalesOrder(shipped)).lines.map((l) => l.variant)).toEqual(shipped.lines.map((l) => ({ sku: l.sku })));
  });

  it('reads the WMS’s empty tracking number as none yet', () => {
    const pending: ShipmentRecord = { id: 'shp-1', orderId: 'ord-w1', status: 'PENDING', carrier: 'DHL', trackingNumber: '', shippedAt: null, deliveredAt: null };
    expect(toOrderShipment(pending).trackingNumber).toBeNull();
    expect(toOrderShipment({ ...pending, trackingNumber: 'AB12' }).trackingNumber).toBe('AB12');
  });
});
