import { describe, expect, it } from 'vitest';
import { fromGlobalId, fromOptionalGlobalId, keyPartsOf, parseGlobalId, toGlobalId } from './global-id.js';

describe('global ids', () => {
  it('round-trip a type and a one-part key, opaque and URL-safe', () => {
    const id = toGlobalId('Order', 'ord-w000001');
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(id).not.toContain('ord-w000001');
    expect(parseGlobalId(id)).toEqual({ type: 'Order', parts: ['ord-w000001'], key: 'ord-w000001' });
    expect(fromGlobalId('Order', id)).toBe('ord-w000001');
  });

  it('encode composite keys unambiguously, whatever the parts contain', () => {
    const id = toGlobalId('InventoryLevel', 'SKU:1/ä', 'store-003');
    expect(parseGlobalId(id)?.parts).toEqual(['SKU:1/ä', 'store-003']);
    expect(keyPartsOf('InventoryLevel', id)).toEqual(['SKU:1/ä', 'store-003']);
    expect(toGlobalId('InventoryLevel', 'a:b', 'c')).not.toBe(toGlobalId('InventoryLevel', 'a', 'b:c'));
    // A composite id is no one-part key: fromGlobalId leaves it alone.
    expect(fromGlobalId('InventoryLevel', id)).toBe(id);
    expect(keyPartsOf('InventoryLevel', toGlobalId('Order', 'x'))).toBeNull();
    expect(keyPartsOf('Order', id)).toBeNull();
  });

  it('give back native ids, ids of another type and garbage unchanged (native ids stay valid arguments)', () => {
    for (const value of ['prod-0001', 'cust-00042', '', 'not base64!', 'UHJvZHVjdDpwcm9kLTAwMDE=', toGlobalId('Product', 'prod-0001')]) {
      expect(fromGlobalId('Order', value)).toBe(value);
    }
    expect(fromOptionalGlobalId('Customer', null)).toBeNull();
    expect(fromOptionalGlobalId('Customer', undefined)).toBeUndefined();
    expect(fromOptionalGlobalId('Customer', toGlobalId('Customer', 'cust-00001'))).toBe('cust-00001');
  });

  it('parse only what toGlobalId makes: canonical base64url of "<Type>:<key>"', () => {
    const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
    expect(parseGlobalId('prod-0001')).toBeNull();
    expect(parseGlobalId('')).toBeNull();
    expect(parseGlobalId(`${toGlobalId('Product', 'prod-0001')}=`)).toBeNull();
    // Padded standard base64 of the same text is not ours: ids are compared as strings by caches.
    expect(parseGlobalId(Buffer.from('Product:prod-0001').toString('base64'))).toBeNull();
    expect(parseGlobalId(b64('Product:'))).toBeNull();
    expect(parseGlobalId(b64(':prod-0001'))).toBeNull();
    expect(parseGlobalId(b64('Pro duct:x'))).toBeNull();
    expect(parseGlobalId(b64('Product:%E0%A4%A'))).toBeNull();
    expect(parseGlobalId(b64('InventoryLevel:a::b'))).toBeNull();
    expect(parseGlobalId('A'.repeat(2000))).toBeNull();
    // The type is not checked here: the node resolver decides which types it knows.
    expect(parseGlobalId(b64('Widget:1'))).toEqual({ type: 'Widget', parts: ['1'], key: '1' });
  });
});
