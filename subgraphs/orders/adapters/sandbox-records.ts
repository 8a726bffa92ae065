import type { OrderRecord, ReturnRecord, ShipmentRecord } from '../../../common/systems/records.js';
import type { OrderReturn, OrderShipment, SalesOrder } from '../ports.js';

/** The sandbox order systems' record shapes, mapped to the port's. Both order systems share one record shape. */
export const toSalesOrder = (o: OrderRecord): SalesOrder => ({
  id: o.id,
  number: o.number,
  status: o.status,
  channel: o.channel,
  deliveryMethod: o.deliveryMethod,
  customerId: o.customerId,
  pickupLocationId: o.pickupLocationId,
  fulfillmentLocationId: o.fulfillmentLocationId,
  lines: o.lines.map((l) => ({
    sku: l.sku,
    quantity: l.quantity,
    unitPrice: { minor: l.unitPriceMinor, currency: o.currency },
    ...(l.taxMinor !== undefined ? { taxMinor: l.taxMinor, taxRateBp: l.taxRateBp ?? 0 } : {}),
  })),
  total: { minor: o.totalMinor, currency: o.currency },
  placedAt: o.placedAt,
  correlationId: o.correlationId,
  lastMove: o.lastMove ? { ...o.lastMove } : null,
  lastRelocation: o.lastRelocation ? { ...o.lastRelocation } : null,
  checkoutReference: o.checkoutReference ?? null,
  tax: o.tax ? { ...o.tax } : null,
  shippingAddress: o.shippingAddress ? { ...o.shippingAddress } : null,
  marketplace: o.marketplace ? { ...o.marketplace } : null,
  fulfillments: o.fulfillments ? o.fulfillments.map((p) => ({ ...p, lines: p.lines.map((l) => ({ ...l })) })) : null,
});

export const toOrderReturn = (r: ReturnRecord): OrderReturn => ({
  id: r.id,
  orderId: r.orderId,
  status: r.status,
  reason: r.reason,
  lines: r.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
  requestedAt: r.requestedAt,
  receivedAt: r.receivedAt,
});

export const toOrderShipment = (s: ShipmentRecord): OrderShipment => ({
  id: s.id,
  orderId: s.orderId,
  status: s.status,
  carrier: s.carrier,
  // The WMS keeps an empty string until the carrier assigns a number; the graph says "none yet" with null.
  trackingNumber: s.trackingNumber === '' ? null : s.trackingNumber,
  shippedAt: s.shippedAt,
  deliveredAt: s.deliveredAt,
});
