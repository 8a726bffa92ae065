import { registerEnumType } from 'type-graphql';
import { EVENT_SOURCES, EVENT_TYPES, type EventSource as EventSourceCode, type EventType as EventTypeCode } from '../../common/events.js';
import type { ChannelCode, DeliveryMethodCode, OrderStatusCode, ReturnStatusCode, ShipmentStatusCode } from './ports.js';
import type { SalesChannel } from '../../common/channels/channel-allocation-rule.js';

/*
 * The graph's enums are the ports' (and the event vocabulary's) code sets; the mapped types make the compiler
 * flag a value added on one side only.
 */

export const OrderStatus: { readonly [K in OrderStatusCode]: K } = {
  PLACED: 'PLACED',
  CONFIRMED: 'CONFIRMED',
  READY_FOR_PICKUP: 'READY_FOR_PICKUP',
  PICKED_UP: 'PICKED_UP',
  SHIPPED: 'SHIPPED',
  DELIVERED: 'DELIVERED',
  CANCELLED: 'CANCELLED',
  PARTIALLY_RETURNED: 'PARTIALLY_RETURNED',
  RETURNED: 'RETURNED',
};
export type OrderStatus = OrderStatusCode;

export const Channel: { readonly [K in ChannelCode]: K } = { WEB: 'WEB', MOBILE: 'MOBILE', STORE: 'STORE', MARKETPLACE: 'MARKETPLACE', CALL_CENTER: 'CALL_CENTER' } satisfies { readonly [K in SalesChannel]: K };
export type Channel = ChannelCode;

export const DeliveryMethod: { readonly [K in DeliveryMethodCode]: K } = { SHIPPING: 'SHIPPING', PICKUP: 'PICKUP', SHIP_FROM_STORE: 'SHIP_FROM_STORE' };
export type DeliveryMethod = DeliveryMethodCode;

export const ShipmentStatus: { readonly [K in ShipmentStatusCode]: K } = { PENDING: 'PENDING', SHIPPED: 'SHIPPED', DELIVERED: 'DELIVERED' };
export type ShipmentStatus = ShipmentStatusCode;

export const ReturnStatus: { readonly [K in ReturnStatusCode]: K } = { REQUESTED: 'REQUESTED', RECEIVED: 'RECEIVED', REFUNDED: 'REFUNDED' };
export type ReturnStatus = ReturnStatusCode;

// Built from the canonical vocabulary so that a new event type reaches the schema without a second list.
export const EventType = Object.fromEntries(EVENT_TYPES.map((t) => [t, t])) as { readonly [K in EventTypeCode]: K };
export type EventType = EventTypeCode;

export const EventSource = Object.fromEntries(EVENT_SOURCES.map((s) => [s, s])) as { readonly [K in EventSourceCode]: K };
export type EventSource = EventSourceCode;

registerEnumType(OrderStatus, { name: 'OrderStatus', description: 'Where an order is in its life.' });
registerEnumType(Channel, { name: 'Channel', description: 'Where the order was taken.' });
registerEnumType(DeliveryMethod, {
  name: 'DeliveryMethod',
  description: 'How the goods reach the customer.',
  valuesConfig: {
    SHIPPING: { description: 'Shipped from a warehouse.' },
    PICKUP: { description: 'Collected at a store.' },
    SHIP_FROM_STORE: { description: "Shipped from a store's stock." },
  },
});
registerEnumType(ShipmentStatus, { name: 'ShipmentStatus' });
registerEnumType(ReturnStatus, { name: 'ReturnStatus' });
registerEnumType(EventType, { name: 'EventType', description: 'The canonical event vocabulary shared by every domain.' });
registerEnumType(EventSource, { name: 'EventSource', description: 'The system or channel an event came from.' });
