import type { CustomerRecord } from '../common/systems/records.js';
import type { SeedData } from './seed.js';
import { indexBy } from './shared.js';

/** CRM: customer master, loyalty and consent. */
export class SandboxCrm {
  private readonly customers: Map<string, CustomerRecord>;
  private readonly list: CustomerRecord[];
  private readonly haystacks: string[];

  constructor(data: SeedData) {
    this.list = data.customers;
    this.customers = indexBy(data.customers, (c) => c.id);
    this.haystacks = data.customers.map((c) => `${c.firstName} ${c.lastName}\n${c.email}`.toLowerCase());
  }

  async getCustomers(ids: readonly string[]): Promise<(CustomerRecord | null)[]> {
    return ids.map((id) => this.customers.get(id) ?? null);
  }

  /**
   * Case-insensitive search by name, email or phone (a phone query matches on digits, so "+49 30" and "4930"
   * find the same people). At most `limit` results, ordered by last name, first name, id.
   */
  async searchCustomers(query: string, limit: number): Promise<CustomerRecord[]> {
    const q = query.trim().toLowerCase();
    if (!q) return [];
    const digits = q.replace(/\D/g, '');
    const phoneLike = digits.length >= 3 && /^[\d\s+()./-]+$/.test(q);
    const hits: CustomerRecord[] = [];
    this.list.forEach((c, i) => {
      if ((this.haystacks[i] ?? '').includes(q) || (phoneLike && c.phone.replace(/\D/g, '').includes(digits))) hits.push(c);
    });
    hits.sort((a, b) => a.lastName.localeCompare(b.lastName) || a.firstName.localeCompare(b.firstName) || a.id.localeCompare(b.id));
    return hits.slice(0, limit);
  }
}
