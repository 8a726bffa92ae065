import { printSubgraphSchema } from '@apollo/subgraph';
import { Kind, parse, print, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { scopes, statedAuthorization } from '../../test/support/principals.js';
import { buildOrdersSchema } from './index.js';

/**
 * The client contract of this subgraph, as agreed (descriptions aside). Mutation payloads are nullable: a caller
 * the authorization directives refuse gets null with a located error.
 */
const CONTRACT = /* GraphQL */ `
  enum OrderStatus { PLACED CONFIRMED READY_FOR_PICKUP PICKED_UP SHIPPED DELIVERED CANCELLED PARTIALLY_RETURNED RETURNED }
  enum Channel { WEB MOBILE STORE MARKETPLACE CALL_CENTER }
  enum DeliveryMethod { SHIPPING PICKUP SHIP_FROM_STORE }
  enum ShipmentStatus { PENDING SHIPPED DELIVERED }
  enum ReturnStatus { REQUESTED RECEIVED REFUNDED }
  enum EventType { ORDER_PLACED PAYMENT_AUTHORIZED INVENTORY_RESERVED INVENTORY_RELEASED ORDER_CONFIRMED READY_FOR_PICKUP PICKED_UP ORDER_SHIPPED ORDER_DELIVERED ORDER_CANCELLED RETURN_REQUESTED RETURN_RECEIVED REFUND_ISSUED INVOICE_ISSUED JOURNAL_POSTED POSTING_FAILED INVENTORY_ADJUSTED MASTER_DATA_REJECTED LOYALTY_POINTS_EARNED LOYALTY_POINTS_REVERSED PICKUP_LOCATION_CHANGED STOCK_EXCEPTION_RAISED TAX_ESTIMATED MARKETPLACE_ORDER_ACKNOWLEDGED MARKETPLACE_ORDER_REJECTED MARKETPLACE_SHIPMENT_CONFIRMED MARKETPLACE_CANCELLATION_CONFIRMED ORDER_REROUTED ORDER_EXCEPTION_RAISED }
  enum EventSource { WEB MOBILE POS WMS ERP CRM PSP MARKETPLACE }
  type Order @key(fields: "id") {
    id: ID!
    number: String!
    status: OrderStatus!
    channel: Channel!
    deliveryMethod: DeliveryMethod!
    pickupLocation: Location
    fulfillmentLocation: Location
    customer: Customer
    lines: [OrderLine!]!
    total: Money!
    subtotal: Money
    taxTotal: Money
    tax: OrderTax
    shippingAddress: ShippingAddress
    fulfillments: [Fulfillment!]!
    placedAt: DateTime!
    correlationId: String!
    shipments: [Shipment!]
    returns: [Return!]
    marketplace: MarketplaceOrder
    timeline: [OrderEvent!]
  }
  enum MarketplaceAcknowledgement { PENDING ACKNOWLEDGED LATE MISSED }
  type MarketplaceOrder { marketplace: String! externalOrderId: String! receivedAt: DateTime! acknowledgeBy: DateTime! acknowledgement: MarketplaceAcknowledgement! acknowledgedAt: DateTime }
  type OrderLine { sku: String! quantity: Int! unitPrice: Money! lineTotal: Money! tax: LineTax variant: ProductVariant }
  enum TaxStatus { CALCULATED ESTIMATED }
  enum TaxBasis { ENGINE LAST_RATE DEFAULT_RATE }
  type LineTax { ratePercent: Float! amount: Money! }
  type OrderTax { status: TaxStatus! basis: TaxBasis! reviewRequired: Boolean! country: String! postalCode: String! jurisdiction: String! }
  type ShippingAddress { country: String! postalCode: String! city: String! line1: String! }
  enum FulfillmentStatus { OPEN SHIPPED CANCELLED }
  type FulfillmentLine { sku: String! quantity: Int! }
  type Fulfillment { id: ID! location: Location lines: [FulfillmentLine!]! status: FulfillmentStatus! }
  input ShippingAddressInput { country: String! postalCode: String! city: String! line1: String! }
  type ProductVariant @key(fields: "sku", resolvable: false) { sku: String! }
  type Location @key(fields: "id") { id: ID! pickupQueue: [Order!] }
  type Customer @key(fields: "id") { id: ID! orders(first: Int = 10, after: String): OrderConnection }
  type OrderConnection { totalCount: Int! pageInfo: PageInfo! edges: [OrderEdge!]! }
  type OrderEdge { cursor: String! node: Order! }
  type Shipment { id: ID! status: ShipmentStatus! carrier: String! trackingNumber: String shippedAt: DateTime deliveredAt: DateTime }
  type Return { id: ID! status: ReturnStatus! reason: String! lines: [ReturnLine!]! requestedAt: DateTime! receivedAt: DateTime }
  type ReturnLine { sku: String! quantity: Int! }
  type OrderEvent { id: ID! type: EventType! source: EventSource! occurredAt: DateTime! correlationId: String! summary: String! sku: String locationId: ID }
  type Query { openOrders(first: Int = 10): OpenOrders order(id: ID!): Order orderByNumber(number: String!): Order }
  type OpenOrderStatus { status: OrderStatus! count: Int! oldestPlacedAt: DateTime }
  type OpenOrders { statuses: [OpenOrderStatus!]! oldest: [Order!]! }
  enum PaymentMethod { CARD PAYPAL KLARNA GIFT_CARD CASH }
  type PlaceOrderPayload { order: Order userErrors: [UserError!]! }
  type UserError @shareable { field: String message: String! code: String! }
  input PlaceOrderInput {
    idempotencyKey: String!
    channel: Channel!
    deliveryMethod: DeliveryMethod!
    customerId: ID
    pickupLocationId: ID
    lines: [OrderLineInput!]!
    paymentMethod: PaymentMethod = CARD
    paymentToken: String
    shippingAddress: ShippingAddressInput
  }
  input OrderLineInput { sku: String! quantity: Int! }
  type OrderStatusPayload { order: Order userErrors: [UserError!]! }
  input ShipOrderInput { idempotencyKey: String! orderId: ID! carrier: String! trackingNumber: String }
  input CancelOrderInput { idempotencyKey: String! orderId: ID! reason: String! }
  input ChangePickupLocationInput { idempotencyKey: String! orderId: ID! pickupLocationId: ID! }
  input PickShortageLineInput { sku: String! quantity: Int! }
  input ReportPickShortageInput { idempotencyKey: String! orderId: ID! lines: [PickShortageLineInput!]! }
  input ReturnLineInput { sku: String! quantity: Int! }
  input CreateReturnInput { idempotencyKey: String! orderId: ID! reason: String! lines: [ReturnLineInput!]! }
  type CreateReturnPayload { return: Return userErrors: [UserError!]! }
  enum ReturnCondition { RESTOCK DAMAGED }
  input ReceiveReturnInput { idempotencyKey: String! returnId: ID! condition: ReturnCondition! }
  type ReceiveReturnPayload { return: Return order: Order userErrors: [UserError!]! }
  type Mutation {
    placeOrder(input: PlaceOrderInput!): PlaceOrderPayload
    markReadyForPickup(orderId: ID!, idempotencyKey: String): OrderStatusPayload
    confirmPickup(orderId: ID!, idempotencyKey: String): OrderStatusPayload
    shipOrder(input: ShipOrderInput!): OrderStatusPayload
    markDelivered(orderId: ID!, idempotencyKey: String!): OrderStatusPayload
    cancelOrder(input: CancelOrderInput!): OrderStatusPayload
    changePickupLocation(input: ChangePickupLocationInput!): OrderStatusPayload
    reportPickShortage(input: ReportPickShortageInput!): OrderStatusPayload
    createReturn(input: CreateReturnInput!): CreateReturnPayload
    receiveReturn(input: ReceiveReturnInput!): ReceiveReturnPayload
  }
  type OrderStatusChange { eventId: ID! orderId: ID! previousStatus: OrderStatus status: OrderStatus! occurredAt: DateTime! correlationId: String! sequence: Int! order: Order }
  type Subscription { orderStatusChanged(orderId: ID, customerId: ID, locationId: ID, after: Int): OrderStatusChange! }
`;

/** Each object, input and enum type as one line per field (with arguments, in order) or value, plus its directives. */
function shapes(document: DocumentNode): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const def of document.definitions) {
    if (def.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION) {
      out.set(def.name.value, (def.fields ?? []).map((f) => `${f.name.value}: ${print(f.type)}${f.defaultValue ? ` = ${print(f.defaultValue)}` : ''}`));
    } else if (def.kind === Kind.OBJECT_TYPE_DEFINITION) {
      const directives = (def.directives ?? []).map((d) => print(d));
      const fields = (def.fields ?? []).map((f) => {
        const args = f.arguments?.length ? `(${f.arguments.map((a) => `${a.name.value}: ${print(a.type)}${a.defaultValue ? ` = ${print(a.defaultValue)}` : ''}`).join(', ')})` : '';
        return `${f.name.value}${args}: ${print(f.type)}`;
      });
      out.set(def.name.value, [...directives, ...fields]);
    } else if (def.kind === Kind.ENUM_TYPE_DEFINITION) {
      out.set(def.name.value, (def.values ?? []).map((v) => v.name.value));
    }
  }
  return out;
}

describe('orders subgraph schema', () => {
  it('is exactly the contract: types, fields, nullability, arguments and keys', async () => {
    const printed = shapes(parse(printSubgraphSchema(await buildOrdersSchema())));
    for (const [name, shape] of shapes(parse(CONTRACT))) expect([name, printed.get(name)]).toEqual([name, shape]);
    // Nothing beyond the contract but the shared value types.
    const extra = [...printed.keys()].filter((name) => !shapes(parse(CONTRACT)).has(name));
    expect(extra.sort()).toEqual(['Money', 'PageInfo']);
  });

  it('states who may call each protected field', async () => {
    const document = parse(printSubgraphSchema(await buildOrdersSchema()));
    const stated = statedAuthorization(document);
    expect(stated).toEqual({
      'Customer.orders': scopes('shopper', 'agent'),
      'Location.pickupQueue': scopes('store', 'agent'),
      'Order.marketplace': scopes('agent'),
      'Query.order': '@authenticated',
      'Query.orderByNumber': '@authenticated',
      'Query.openOrders': '@requiresScopes(scopes: [["agent"], ["finance"], ["ops"]])',
      'Mutation.placeOrder': `${scopes('shopper', 'agent')} @policy(policies: [["own_customer"]])`,
      'Mutation.markReadyForPickup': scopes('store'),
      'Mutation.confirmPickup': scopes('store'),
      'Mutation.shipOrder': scopes('store'),
      'Mutation.markDelivered': scopes('store', 'agent'),
      'Mutation.cancelOrder': scopes('shopper', 'agent'),
      'Mutation.changePickupLocation': scopes('shopper', 'agent'),
      'Mutation.createReturn': scopes('shopper', 'agent'),
      'Mutation.receiveReturn': scopes('store'),
      'Mutation.reportPickShortage': scopes('store'),
      'Subscription.orderStatusChanged': `${scopes('shopper', 'store', 'agent')} @policy(policies: [["own_order_feed"]])`,
    });
  });

  it('reuses the shared Money and PageInfo and the DateTime scalar', async () => {
    const sdl = printSubgraphSchema(await buildOrdersSchema());
    expect(sdl).toMatch(/type Money\s+@shareable/);
    expect(sdl).toMatch(/type PageInfo\s+@shareable/);
    expect(sdl).toContain('scalar DateTime');
  });
});
