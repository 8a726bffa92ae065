import { describe, expect, it } from 'vitest';
import { toGlobalId } from '../global-id.js';
import { testShopper, testStore } from '../../test/support/principals.js';
import { POLICIES } from './policies.js';

const shopper = testShopper('cust-00001');
const associate = testStore('store-003');

// The principal carries native ids (a token's `sub`, its location claim); arguments may name them either way.
describe('policies compare argument ids in either form with the principal', () => {
  it('own_customer', () => {
    expect(POLICIES.own_customer(shopper, { input: { customerId: 'cust-00001' } })).toBe(true);
    expect(POLICIES.own_customer(shopper, { input: { customerId: toGlobalId('Customer', 'cust-00001') } })).toBe(true);
    expect(POLICIES.own_customer(shopper, { input: { customerId: toGlobalId('Customer', 'cust-00002') } })).toBe(false);
    // A global id of another type names no customer of theirs.
    expect(POLICIES.own_customer(shopper, { input: { customerId: toGlobalId('Order', 'cust-00001') } })).toBe(false);
  });

  it('own_location', () => {
    expect(POLICIES.own_location(associate, { locationId: toGlobalId('Location', 'store-003') })).toBe(true);
    expect(POLICIES.own_location(associate, { input: { locationId: toGlobalId('Location', 'store-003') } })).toBe(true);
    expect(POLICIES.own_location(associate, { input: { locationId: toGlobalId('Location', 'store-004') } })).toBe(false);
  });

  it('own_order_feed', () => {
    expect(POLICIES.own_order_feed(shopper, { customerId: toGlobalId('Customer', 'cust-00001') })).toBe(true);
    expect(POLICIES.own_order_feed(shopper, { customerId: toGlobalId('Customer', 'cust-00002') })).toBe(false);
    expect(POLICIES.own_order_feed(shopper, { orderId: toGlobalId('Order', 'ord-w000001') })).toBe(true);
    expect(POLICIES.own_order_feed(associate, { locationId: toGlobalId('Location', 'store-003') })).toBe(true);
    expect(POLICIES.own_order_feed(associate, { locationId: toGlobalId('Location', 'store-001') })).toBe(false);
  });
});
