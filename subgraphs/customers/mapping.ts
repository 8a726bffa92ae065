import { Customer, Loyalty, MarketingConsent } from './customer.js';
import type { CustomerProfile } from './ports.js';

/** "First Last"; a missing part leaves no stray space, since CRM records are not always complete. */
export function formatName(firstName: string, lastName: string): string {
  return [firstName.trim(), lastName.trim()].filter(Boolean).join(' ');
}

export function toCustomer(c: CustomerProfile): Customer {
  return Object.assign(new Customer(), {
    id: c.id,
    name: formatName(c.firstName, c.lastName),
    firstName: c.firstName,
    lastName: c.lastName,
    email: c.email,
    phone: c.phone,
    loyalty: Object.assign(new Loyalty(), { tier: c.loyalty.tier, pointsBalance: c.loyalty.pointsBalance, customerId: c.id }),
    marketingConsent: Object.assign(new MarketingConsent(), { email: c.marketingConsent.email, sms: c.marketingConsent.sms }),
    createdAt: c.createdAt,
  });
}
