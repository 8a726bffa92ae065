import type { ResilienceRegistry } from '../../../common/resilience.js';
import type { CustomerRecord } from '../../../common/systems/records.js';
import type { SandboxCrm } from '../../../sandbox/crm.js';
import type { CustomerMasterPort, CustomerProfile } from '../ports.js';

export const toProfile = (c: CustomerRecord): CustomerProfile => ({
  id: c.id,
  firstName: c.firstName,
  lastName: c.lastName,
  email: c.email,
  phone: c.phone,
  loyalty: { tier: c.loyaltyTier, pointsBalance: c.loyaltyPoints },
  marketingConsent: { email: c.consentEmail, sms: c.consentSms },
  createdAt: c.createdAt,
});

/** The customer master over the sandbox CRM (in process or over HTTP): one CRM call per port call. */
export class SandboxCustomerMaster implements CustomerMasterPort {
  private readonly crm: SandboxCrm;
  constructor(crm: SandboxCrm, resilience: ResilienceRegistry) {
    this.crm = resilience.wrap('crm', crm);
  }

  async getCustomers(ids: readonly string[]) {
    return (await this.crm.getCustomers(ids)).map((c) => (c ? toProfile(c) : null));
  }

  async searchCustomers(query: string, limit: number) {
    return (await this.crm.searchCustomers(query, limit)).map(toProfile);
  }
}
