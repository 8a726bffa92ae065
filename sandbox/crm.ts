import type { CustomerRecord, LoyaltyEntryRecord, LoyaltyPostingRequest } from '../common/systems/records.js';
import { callTime } from './clock.js';
import type { SeedData } from './seed.js';
import { groupBy, indexBy } from './shared.js';
import { EXPORT_STATE, IMPORT_STATE, listPart, type SystemState } from './state.js';

/** CRM: customer master, loyalty (the seeded balance and a points ledger on top of it) and consent. */
export class SandboxCrm {
  private readonly customers: Map<string, CustomerRecord>;
  private readonly list: CustomerRecord[];
  private readonly haystacks: string[];
  /** Ledger entries per customer, oldest first. */
  private readonly ledger = new Map<string, LoyaltyEntryRecord[]>();
  private readonly byReference = new Map<string, LoyaltyEntryRecord>();
  /** Per customer, what the ledger added to the seeded balance (earned − reversed). */
  private readonly delta = new Map<string, number>();

  constructor(data: SeedData) {
    this.list = data.customers;
    this.customers = indexBy(data.customers, (c) => c.id);
    this.haystacks = data.customers.map((c) => `${c.firstName} ${c.lastName}\n${c.email}`.toLowerCase());
  }

  async getCustomers(ids: readonly string[]): Promise<(CustomerRecord | null)[]> {
    return ids.map((id) => {
      const customer = this.customers.get(id);
      return customer ? this.withBalance(customer) : null;
    });
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
    return hits.slice(0, limit).map((c) => this.withBalance(c));
  }

  /**
   * Book loyalty points: earned (added to the balance) or reversed (taken off it). Idempotent by the caller's
   * reference, as a real CRM's loyalty API is by transaction id: a repeat answers the first entry (its balance
   * then) and changes nothing. Null for an unknown customer (nothing booked). Points must be a positive integer.
   */
  async postLoyalty(request: LoyaltyPostingRequest): Promise<LoyaltyEntryRecord | null> {
    const earlier = this.byReference.get(request.reference);
    if (earlier) return earlier;
    if (!Number.isSafeInteger(request.points) || request.points <= 0) throw new RangeError(`loyalty points must be a positive integer, got ${String(request.points)}`);
    if (request.kind !== 'EARNED' && request.kind !== 'REVERSED') throw new RangeError(`loyalty entry kind must be EARNED or REVERSED, got ${String(request.kind)}`);
    const customer = this.customers.get(request.customerId);
    if (!customer) return null;
    const delta = (this.delta.get(customer.id) ?? 0) + (request.kind === 'EARNED' ? request.points : -request.points);
    const entry: LoyaltyEntryRecord = {
      reference: request.reference,
      customerId: customer.id,
      kind: request.kind,
      points: request.points,
      orderId: request.orderId,
      returnId: request.returnId ?? null,
      balance: customer.loyaltyPoints + delta,
      postedAt: callTime().toISOString(),
    };
    this.add(entry);
    return entry;
  }

  /** Each customer's ledger entries, oldest first ([] for a customer without any, or an unknown one). */
  async getLoyaltyLedger(customerIds: readonly string[]): Promise<LoyaltyEntryRecord[][]> {
    return customerIds.map((id) => this.ledger.get(id)?.slice() ?? []);
  }

  /** The record as callers see it: the seeded balance plus the ledger. The tier stays as the CRM holds it. */
  private withBalance(customer: CustomerRecord): CustomerRecord {
    const delta = this.delta.get(customer.id);
    return delta ? { ...customer, loyaltyPoints: customer.loyaltyPoints + delta } : customer;
  }

  private add(entry: LoyaltyEntryRecord): void {
    const list = this.ledger.get(entry.customerId);
    if (list) list.push(entry);
    else this.ledger.set(entry.customerId, [entry]);
    this.byReference.set(entry.reference, entry);
    this.delta.set(entry.customerId, (this.delta.get(entry.customerId) ?? 0) + (entry.kind === 'EARNED' ? entry.points : -entry.points));
  }

  /** Its ledger (entries are never changed once booked), every customer's in booking order. */
  [EXPORT_STATE](): SystemState {
    return { loyalty: [...this.ledger.values()].flat() };
  }

  [IMPORT_STATE](state: SystemState): void {
    this.ledger.clear();
    this.byReference.clear();
    this.delta.clear();
    for (const list of groupBy(listPart<LoyaltyEntryRecord>(state, 'loyalty', 'the CRM'), (e) => e.customerId).values()) for (const entry of list) this.add(entry);
  }
}
