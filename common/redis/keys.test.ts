import { describe, expect, it } from 'vitest';
import { hashTagOf, redisKeys, slotOf } from './keys.js';

const keys = redisKeys('retail');
const sameSlot = (...all: string[]) => new Set(all.map(hashTagOf)).size === 1;

describe('the Redis key layout', () => {
  it('reads hash tags as Redis Cluster does', () => {
    expect(hashTagOf('a:{b}:c')).toBe('b');
    expect(hashTagOf('a:{b}:{c}')).toBe('b');
    expect(hashTagOf('a:b')).toBe('a:b');
    expect(hashTagOf('a:{}:b')).toBe('a:{}:b');
    expect(hashTagOf('a:{b')).toBe('a:{b');
  });

  it('computes slots as CLUSTER KEYSLOT does (CRC16 of the tag, mod 16384)', () => {
    expect(slotOf('foo')).toBe(12182);
    expect(slotOf('bar')).toBe(5061);
    expect(slotOf('{foo}:anything')).toBe(12182);
    expect(slotOf(keys.stock.record('store-003', 'A'))).toBe(slotOf(keys.stock.due('store-003')));
  });

  it('puts every key a stock script touches in the location\'s slot', () => {
    const s = keys.stock;
    expect(sameSlot(s.record('store-003', 'SKU-1'), s.record('store-003', 'SKU-2'), s.reservations('store-003'), s.due('store-003'), s.made('store-003'), s.sequence('store-003'))).toBe(true);
    expect(hashTagOf(s.record('store-003', 'SKU-1'))).not.toBe(hashTagOf(s.record('store-004', 'SKU-1')));
    // A SKU with braces in it cannot move its record out of the location's slot.
    expect(sameSlot(s.record('store-003', '{evil}'), s.reservations('store-003'))).toBe(true);
  });

  it('keeps the stream with its seen flags, each order\'s list with its id set, the outbox and the read models together', () => {
    const e = keys.events;
    expect(sameSlot(e.stream, e.seen('evt-1'), e.seen('evt-2'))).toBe(true);
    expect(sameSlot(e.order('ord-1'), e.orderIds('ord-1'))).toBe(true);
    expect(hashTagOf(e.order('ord-1'))).not.toBe(hashTagOf(e.order('ord-2')));
    expect(sameSlot(...['posting:p1', 'order:ord-1', 'due', 'by-source', 'by-created'].map(keys.outbox))).toBe(true);
    expect(sameSlot(...['snapshot', 'log', 'position', 'epoch', 'exceptions', 'exception-ids'].map(keys.masterData))).toBe(true);
  });

  it('gives each idempotency record its own tag, whatever the scope and key contain', () => {
    const key = keys.idempotency('orders:placeOrder:cust-1', 'k}{');
    expect(key).toMatch(/^retail:idem:\{[0-9a-f]{64}:[0-9a-f]{64}\}$/);
    expect(hashTagOf(key)).not.toBe(hashTagOf(keys.idempotency('orders:placeOrder:cust-1', 'other')));
  });

  it('keeps every key under the prefix, and refuses a prefix with braces', () => {
    const all = [keys.stock.record('l', 's'), keys.stock.locations, keys.events.stream, keys.events.order('o'), keys.idempotency('s', 'k'), keys.outbox('due'), keys.masterData('log'), keys.syncLease, keys.rateLimit('r', 'c')];
    for (const key of all) expect(key.startsWith('retail:')).toBe(true);
    expect(() => redisKeys('a{b}')).toThrow(/must not contain/);
  });
});
