import DataLoader from 'dataloader';
import type { CanonicalEvent } from '../../common/events.js';
import type { ScopedContext } from '../../common/http.js';
import type { CheckoutDeps } from './checkout/checkout.service.js';
import type { LifecyclePorts } from './lifecycle/lifecycle.service.js';
import { mergeCustomerOrders } from './customer-orders.js';
import type { OrderReturn, OrderShipment, OrdersPorts, SalesOrder } from './ports.js';
import { routeBatch, systemOfOrderId, systemOfOrderNumber } from './routing.js';
import type { OrderStatusFeed } from './status/order-status-feed.js';

/**
 * A fresh set per request: caching lives exactly as long as one query. Every lookup by order id or number is
 * routed to the one system that owns it (see routing.ts), so a request makes at most one call per system and
 * method, however many orders it touches.
 */
export function createOrdersLoaders(ports: OrdersPorts) {
  const { orderBooks, pickupQueue, shipments, eventLog } = ports;

  const order = new DataLoader<string, SalesOrder | null>((ids) =>
    routeBatch(ids, systemOfOrderId, { pos: (k) => orderBooks.pos.getOrders(k), ecom: (k) => orderBooks.ecom.getOrders(k) }, null),
  );
  const orderByNumber = new DataLoader<string, SalesOrder | null>((numbers) =>
    routeBatch(numbers, systemOfOrderNumber, { pos: (k) => orderBooks.pos.getOrdersByNumber(k), ecom: (k) => orderBooks.ecom.getOrdersByNumber(k) }, null),
  );

  // Orders that arrive in a list are the same records a lookup would fetch: an `order(id:)` for one of them
  // later in the request costs no second call.
  const remember = (orders: readonly SalesOrder[]) => {
    for (const o of orders) {
      order.prime(o.id, o);
      orderByNumber.prime(o.number, o);
    }
  };

  return {
    order,
    orderByNumber,
    /** Both systems are asked once for all the customers; one failing fails the list (a half list would lie about totalCount). */
    ordersByCustomer: new DataLoader<string, SalesOrder[]>(async (customerIds) => {
      const [ecom, pos] = await Promise.all([orderBooks.ecom.getOrdersByCustomer(customerIds), orderBooks.pos.getOrdersByCustomer(customerIds)]);
      return customerIds.map((_, i) => {
        const merged = mergeCustomerOrders(ecom[i] ?? [], pos[i] ?? []);
        remember(merged);
        return merged;
      });
    }),
    pickupQueue: new DataLoader<string, SalesOrder[]>(async (locationIds) => {
      const queues = await pickupQueue.getPickupQueue(locationIds);
      for (const queue of queues) remember(queue);
      return queues;
    }),
    returnsByOrder: new DataLoader<string, OrderReturn[]>((ids) =>
      routeBatch(ids, systemOfOrderId, { pos: (k) => orderBooks.pos.getReturnsByOrder(k), ecom: (k) => orderBooks.ecom.getReturnsByOrder(k) }, [] as OrderReturn[]),
    ),
    shipmentsByOrder: new DataLoader<string, OrderShipment[]>((ids) => shipments.getShipmentsByOrder(ids)),
    eventsByOrder: new DataLoader<string, CanonicalEvent[]>((ids) => eventLog.eventsForOrders(ids)),
  };
}

export type OrdersLoaders = ReturnType<typeof createOrdersLoaders>;

export interface OrdersContext extends ScopedContext {
  loaders: OrdersLoaders;
  /** The write side of checkout (ports, allocation strategy, idempotency, event backbone). */
  checkout: Omit<CheckoutDeps, 'loadOrder'>;
  /**
   * The write side after checkout (status moves, stock, payments, shipments, returns); it shares checkout's
   * idempotency store and event backbone.
   */
  lifecycle: LifecyclePorts;
  /** For calls that are not lookups by key (the write side goes here). */
  ports: OrdersPorts;
  /** The instance's order status moves, filtered at the source (the `orderStatusChanged` subscription). */
  statusChanges: OrderStatusFeed;
}
