// The graph types carry type-graphql decorators, which need the metadata polyfill that buildFederatedSchema loads.
import { describe, expect, it } from 'vitest';
import type { CustomerRecord } from '../../common/systems/records.js';
import { toProfile } from './adapters/sandbox-customer-master.js';
import { formatName, toCustomer } from './mapping.js';

const record: CustomerRecord = {
  id: 'cus-1',
  firstName: 'Ada',
  lastName: 'Lovelace',
  email: 'ada@example.com',
  phone: '+44 20 7946 0000',
  loyaltyTier: 'GOLD',
  loyaltyPoints: 1234,
  consentEmail: true,
  consentSms: false,
  createdAt: '2025-03-01T10:00:00.000Z',
};

describe('formatName', () => {
  it('joins first and last name with one space', () => {
    expect(formatName('Ada', 'Lovelace')).toBe('Ada Lovelace');
  });

  it('trims the parts and leaves no stray space when one is missing', () => {
    expect(formatName('  Ada ', ' Lovelace ')).toBe('Ada Lovelace');
    expect(formatName('', 'Lovelace')).toBe('Lovelace');
    expect(formatName('Ada', '   ')).toBe('Ada');
    expect(formatName('', '')).toBe('');
  });
});

describe('customer mapping', () => {
  it('maps a CRM record to the port profile', () => {
    expect(toProfile(record)).toEqual({
      id: 'cus-1',
      firstName: 'Ada',
      lastName: 'Lovelace',
      email: 'ada@example.com',
      phone: '+44 20 7946 0000',
      loyalty: { tier: 'GOLD', pointsBalance: 1234 },
      marketingConsent: { email: true, sms: false },
      createdAt: '2025-03-01T10:00:00.000Z',
    });
  });

  it('maps a profile to the graph type with the display name', () => {
    const customer = toCustomer(toProfile(record));
    expect(customer).toMatchObject({
      id: 'cus-1',
      name: 'Ada Lovelace',
      firstName: 'Ada',
      lastName: 'Lovelace',
      loyalty: { tier: 'GOLD', pointsBalance: 1234 },
      marketingConsent: { email: true, sms: false },
      createdAt: '2025-03-01T10:00:00.000Z',
    });
  });
});
