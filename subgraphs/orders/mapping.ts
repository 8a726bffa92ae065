import { fulfillmentsOf } from './fulfillments.js';
import { Money } from '../../common/graphql-types.js';
import type { MoneyValue } from '../../common/money.js';
import { Customer } from './customer.js';
import { Location } from './location.js';
import { OpenOrderStatus, OpenOrders } from './open-orders.js';
import { Fulfillment, FulfillmentLine, LineTax, Order, OrderLine, OrderTax, ShippingAddress } from './order.js';
import type { OpenOrders as OpenOrdersValue, OrderReturn, OrderShipment, SalesOrder, SalesOrderLine } from './ports.js';
import { Return, ReturnLine } from './return.js';
import { Shipment } from './shipment.js';
import { ProductVariant } from './variant.js';

export function lineTotal(line: SalesOrderLine): MoneyValue {
  const minor = line.quantity * line.unitPrice.minor;
  if (!Number.isSafeInteger(minor)) throw new RangeError(`line total of ${line.sku} is not a safe integer of minor units`);
  return { minor, currency: line.unitPrice.currency };
}

/** The total the client sees is the sum of the line totals it sees, so the two can never disagree on screen. */
export function orderTotal(order: SalesOrder): MoneyValue {
  let minor = 0;
  for (const line of order.lines) {
    const total = lineTotal(line);
    if (total.currency !== order.total.currency) throw new Error(`order ${order.id} mixes ${total.currency} and ${order.total.currency}`);
    minor += total.minor;
  }
  return { minor, currency: order.total.currency };
}

function toOrderLine(line: SalesOrderLine): OrderLine {
  return Object.assign(new OrderLine(), {
    sku: line.sku,
    quantity: line.quantity,
    unitPrice: Money.of(line.unitPrice),
    lineTotal: Money.of(lineTotal(line)),
    tax: line.taxMinor !== undefined ? Object.assign(new LineTax(), { ratePercent: (line.taxRateBp ?? 0) / 100, amount: Money.of({ minor: line.taxMinor, currency: line.unitPrice.currency }) }) : null,
    variant: ProductVariant.ref(line.sku),
  });
}

export function toOrder(o: SalesOrder): Order {
  return Object.assign(new Order(), {
    id: o.id,
    number: o.number,
    status: o.status,
    channel: o.channel,
    deliveryMethod: o.deliveryMethod,
    pickupLocation: o.deliveryMethod === 'PICKUP' && o.pickupLocationId ? Location.ref(o.pickupLocationId) : null,
    fulfillmentLocation: o.fulfillmentLocationId ? Location.ref(o.fulfillmentLocationId) : null,
    customer: o.customerId ? Customer.ref(o.customerId) : null,
    lines: o.lines.map(toOrderLine),
    total: Money.of(orderTotal(o)),
    subtotal: o.tax ? Money.of({ minor: orderTotal(o).minor - o.tax.taxMinor, currency: o.total.currency }) : null,
    taxTotal: o.tax ? Money.of({ minor: o.tax.taxMinor, currency: o.total.currency }) : null,
    tax: o.tax ? Object.assign(new OrderTax(), { status: o.tax.status, basis: o.tax.basis, reviewRequired: o.tax.reviewRequired, country: o.tax.country, postalCode: o.tax.postalCode, jurisdiction: o.tax.jurisdiction }) : null,
    shippingAddress: o.shippingAddress ? Object.assign(new ShippingAddress(), { ...o.shippingAddress }) : null,
    placedAt: o.placedAt,
    correlationId: o.correlationId,
    marketplaceSource: o.marketplace ?? null,
    fulfillments: fulfillmentsOf(o).map((p) =>
      Object.assign(new Fulfillment(), {
        id: p.id,
        location: Location.ref(p.locationId),
        lines: p.lines.map((l) => Object.assign(new FulfillmentLine(), { sku: l.sku, quantity: l.quantity })),
        status: o.status === 'CANCELLED' && p.status === 'OPEN' ? 'CANCELLED' : p.status,
      }),
    ),
  });
}

export function toShipment(s: OrderShipment): Shipment {
  return Object.assign(new Shipment(), {
    id: s.id,
    status: s.status,
    carrier: s.carrier,
    trackingNumber: s.trackingNumber,
    shippedAt: s.shippedAt,
    deliveredAt: s.deliveredAt,
  });
}

export function toReturn(r: OrderReturn): Return {
  return Object.assign(new Return(), {
    id: r.id,
    status: r.status,
    reason: r.reason,
    lines: r.lines.map((l) => Object.assign(new ReturnLine(), { sku: l.sku, quantity: l.quantity })),
    requestedAt: r.requestedAt,
    receivedAt: r.receivedAt,
  });
}

export function toOpenOrders(open: OpenOrdersValue): OpenOrders {
  return Object.assign(new OpenOrders(), {
    statuses: open.byStatus.map((s) => Object.assign(new OpenOrderStatus(), s)),
    oldest: open.oldest.map(toOrder),
  });
}
