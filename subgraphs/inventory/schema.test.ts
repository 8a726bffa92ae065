import { printSubgraphSchema } from '@apollo/subgraph';
import { Kind, parse, print, type DocumentNode } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { scopes, statedAuthorization } from '../../test/support/principals.js';
import { buildInventorySchema } from './index.js';

let sdl: string;
let document: DocumentNode;

beforeAll(async () => {
  sdl = printSubgraphSchema(await buildInventorySchema());
  document = parse(sdl);
});

/** A type's fields as `name(args sorted by name): Type`, so descriptions and argument order do not matter. */
function fieldsOf(typeName: string): Record<string, string> {
  const type = document.definitions.find((d) => d.kind === Kind.OBJECT_TYPE_DEFINITION && d.name.value === typeName);
  if (!type || type.kind !== Kind.OBJECT_TYPE_DEFINITION) throw new Error(`no type ${typeName}`);
  const fields: Record<string, string> = {};
  for (const field of type.fields ?? []) {
    const args = [...(field.arguments ?? [])].sort((a, b) => a.name.value.localeCompare(b.name.value));
    const argList = args.length ? `(${args.map((a) => `${a.name.value}: ${print(a.type)}`).join(', ')})` : '';
    fields[field.name.value] = `${argList}${print(field.type)}`;
  }
  return fields;
}

/** An input type's fields as `name: Type` or `name: Type = default`. */
function inputFieldsOf(typeName: string): Record<string, string> {
  const type = document.definitions.find((d) => d.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION && d.name.value === typeName);
  if (!type || type.kind !== Kind.INPUT_OBJECT_TYPE_DEFINITION) throw new Error(`no input ${typeName}`);
  const fields: Record<string, string> = {};
  for (const field of type.fields ?? []) fields[field.name.value] = `${print(field.type)}${field.defaultValue ? ` = ${print(field.defaultValue)}` : ''}`;
  return fields;
}

function enumValuesOf(typeName: string): string[] {
  const type = document.definitions.find((d) => d.kind === Kind.ENUM_TYPE_DEFINITION && d.name.value === typeName);
  if (!type || type.kind !== Kind.ENUM_TYPE_DEFINITION) throw new Error(`no enum ${typeName}`);
  return (type.values ?? []).map((v) => v.name.value);
}

describe('inventory subgraph schema', () => {
  it('declares Location and ProductVariant as entities', () => {
    expect(sdl).toMatch(/type Location\s+@key\(fields: "id"\)/);
    expect(sdl).toMatch(/type ProductVariant\s+@key\(fields: "sku"\)/);
  });

  it('has the contract queries (the federation ones are not printed)', () => {
    expect(fieldsOf('Query')).toEqual({
      location: '(id: ID!)Location',
      locations: '(pickupEnabled: Boolean, type: LocationType)[Location!]!',
      exceptions: '(first: Int, kind: ExceptionKind, locationId: ID, status: ExceptionStatus)[OperationalException!]',
    });
  });

  it('has the contract types, with system-backed fields nullable', () => {
    expect(fieldsOf('Location')).toEqual({
      id: 'ID!',
      name: 'String!',
      type: 'LocationType!',
      pickupEnabled: 'Boolean!',
      address: 'Address!',
      inventoryLevels: '(skus: [String!]!)[InventoryLevel!]',
    });
    expect(fieldsOf('Address')).toEqual({ line1: 'String!', city: 'String!', postalCode: 'String!', country: 'String!' });
    expect(fieldsOf('InventoryLevel')).toEqual({
      id: 'ID!',
      sku: 'String!',
      locationId: 'ID!',
      location: 'Location!',
      onHand: 'Int!',
      committed: 'Int!',
      reserved: 'Int!',
      safetyStock: 'Int!',
      damaged: 'Int!',
      incoming: 'Int!',
      available: 'Int!',
      status: 'StockStatus!',
      readAt: 'DateTime!',
      variant: 'ProductVariant',
    });
    expect(fieldsOf('ProductVariant')).toEqual({ sku: 'String!', id: 'ID!', availability: '(channel: Channel, locationIds: [ID!])Availability' });
    expect(fieldsOf('Availability')).toEqual({ available: 'Int!', status: 'StockStatus!', locations: '[LocationAvailability!]!' });
    expect(fieldsOf('LocationAvailability')).toEqual({ location: 'Location!', available: 'Int!', status: 'StockStatus!' });
  });

  it('has the contract enums', () => {
    expect(enumValuesOf('LocationType')).toEqual(['STORE', 'WAREHOUSE']);
    expect(enumValuesOf('StockStatus')).toEqual(['IN_STOCK', 'LOW_STOCK', 'OUT_OF_STOCK']);
    expect(enumValuesOf('StockMovementReason')).toEqual(['SALE', 'RETURN', 'RECEIPT', 'DAMAGE', 'CYCLE_COUNT', 'TRANSFER_IN', 'TRANSFER_OUT']);
  });

  it('has the stock write mutations, each answering userErrors beside its result', () => {
    // The payloads are nullable: a caller the authorization directives refuse gets null with a located error.
    expect(fieldsOf('Mutation')).toEqual({
      adjustInventory: '(input: AdjustInventoryInput!)AdjustInventoryPayload',
      reserveInventory: '(input: ReserveInventoryInput!)ReserveInventoryPayload',
      releaseReservation: '(input: ReleaseReservationInput!)ReleaseReservationPayload',
      syncStoreTransactions: '(input: SyncStoreTransactionsInput!)SyncStoreTransactionsPayload',
    });
    expect(inputFieldsOf('AdjustInventoryInput')).toEqual({
      idempotencyKey: 'String!',
      locationId: 'ID!',
      sku: 'String!',
      reason: 'StockMovementReason!',
      delta: 'Int',
      onHand: 'Int',
      expectedOnHand: 'Int',
    });
    expect(fieldsOf('AdjustInventoryPayload')).toEqual({ level: 'InventoryLevel', userErrors: '[UserError!]!' });
    expect(inputFieldsOf('ReserveInventoryInput')).toEqual({ idempotencyKey: 'String!', locationId: 'ID!', lines: '[StockReservationLineInput!]!', ttlSeconds: 'Int = 900' });
    expect(inputFieldsOf('StockReservationLineInput')).toEqual({ sku: 'String!', quantity: 'Int!' });
    expect(fieldsOf('ReserveInventoryPayload')).toEqual({ reservation: 'StockReservation', userErrors: '[UserError!]!' });
    expect(inputFieldsOf('ReleaseReservationInput')).toEqual({ idempotencyKey: 'String!', reservationId: 'ID!' });
    expect(fieldsOf('ReleaseReservationPayload')).toEqual({ reservation: 'StockReservation', userErrors: '[UserError!]!' });
    expect(fieldsOf('StockReservation')).toEqual({ id: 'ID!', locationId: 'ID!', expiresAt: 'DateTime!', lines: '[StockReservationLine!]!' });
    expect(fieldsOf('StockReservationLine')).toEqual({ sku: 'String!', quantity: 'Int!' });
    expect(fieldsOf('UserError')).toEqual({ field: 'String', message: 'String!', code: 'String!' });
    expect(sdl).toMatch(/type UserError\s+@shareable/);
  });
  it('states who may call each protected field; the storefront reads (locations, availability) stay open', () => {
    const stated = statedAuthorization(document);
    const ownLocation = '@policy(policies: [["own_location"]])';
    expect(stated).toEqual({
      'Location.inventoryLevels': scopes('store', 'agent'),
      'Mutation.adjustInventory': `${scopes('store')} ${ownLocation}`,
      'Mutation.reserveInventory': `${scopes('shopper', 'store', 'agent')} ${ownLocation}`,
      'Mutation.releaseReservation': scopes('shopper', 'store', 'agent'),
      'Mutation.syncStoreTransactions': `${scopes('store')} ${ownLocation}`,
      'Query.exceptions': scopes('agent', 'ops'),
      'Subscription.inventoryChanged': `${scopes('store', 'agent')} ${ownLocation}`,
    });
  });

  it('has the offline store sync and the exception register', () => {
    expect(inputFieldsOf('SyncStoreTransactionsInput')).toEqual({ locationId: 'ID!', transactions: '[StoreTransactionInput!]!' });
    expect(inputFieldsOf('StoreTransactionInput')).toEqual({ id: 'String!', occurredAt: 'DateTime!', kind: 'StoreTransactionKind! = SALE', lines: '[StoreTransactionLineInput!]!' });
    expect(inputFieldsOf('StoreTransactionLineInput')).toEqual({ sku: 'String!', quantity: 'Int!' });
    expect(fieldsOf('SyncStoreTransactionsPayload')).toEqual({ results: '[StoreTransactionResult!]!', userErrors: '[UserError!]!' });
    expect(fieldsOf('StoreTransactionResult')).toEqual({ id: 'String!', occurredAt: 'DateTime!', status: 'StoreTransactionStatus!', oversold: '[OversoldLine!]!' });
    expect(fieldsOf('OversoldLine')).toEqual({ sku: 'String!', shortfall: 'Int!', exceptionId: 'ID!' });
    expect(fieldsOf('OperationalException')).toEqual({
      id: 'ID!',
      kind: 'ExceptionKind!',
      status: 'ExceptionStatus!',
      sku: 'String',
      transactionId: 'String',
      quantity: 'Int',
      shortfall: 'Int',
      onHandShortfall: 'Int',
      order: 'Order',
      detail: 'String',
      occurredAt: 'DateTime!',
      raisedAt: 'DateTime!',
      proposal: '[CompensationProposal!]!',
      location: 'Location!',
      variant: 'ProductVariant',
    });
    expect(fieldsOf('CompensationProposal')).toEqual({ order: 'Order!', orderNumber: 'String!', quantity: 'Int!', action: 'CompensationAction!', rerouteLocation: 'Location' });
    expect(sdl).toMatch(/type Order\s+@key\(fields: "id", resolvable: false\)\s*\{\s*id: ID!\s*\}/);
    expect(enumValuesOf('StoreTransactionKind')).toEqual(['SALE', 'RETURN']);
    expect(enumValuesOf('StoreTransactionStatus')).toEqual(['APPLIED', 'DUPLICATE']);
    expect(enumValuesOf('Channel')).toEqual(['WEB', 'MOBILE', 'STORE', 'MARKETPLACE', 'CALL_CENTER']);
    expect(enumValuesOf('ExceptionKind')).toEqual(['OVERSOLD', 'ACK_WINDOW_MISSED', 'REROUTE_FAILED']);
    expect(enumValuesOf('ExceptionStatus')).toEqual(['OPEN', 'RESOLVED']);
    expect(enumValuesOf('CompensationAction')).toEqual(['REROUTE', 'CANCEL']);
  });

  it('has the inventoryChanged subscription, its level nullable and its variant a catalog reference', () => {
    expect(fieldsOf('Subscription')).toEqual({ inventoryChanged: '(after: Int, locationId: ID!, skus: [String!])InventoryChange!' });
    expect(fieldsOf('InventoryChange')).toEqual({
      eventId: 'ID!',
      sku: 'String!',
      locationId: 'ID!',
      reason: 'InventoryChangeReason!',
      delta: 'Int!',
      occurredAt: 'DateTime!',
      correlationId: 'String!',
      sequence: 'Int!',
      level: 'InventoryLevel',
      location: 'Location!',
      variant: 'ProductVariant!',
    });
    expect(enumValuesOf('InventoryChangeReason')).toEqual([
      'SALE', 'RETURN', 'RECEIPT', 'DAMAGE', 'CYCLE_COUNT', 'TRANSFER_IN', 'TRANSFER_OUT', 'RESERVED', 'ORDER_COMMITTED', 'RELEASED', 'FULFILLED', 'RETURN_RECEIVED',
    ]);
  });
});
