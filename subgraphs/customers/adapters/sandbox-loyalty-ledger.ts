import type { ResilienceRegistry } from '../../../common/resilience.js';
import type { LoyaltyEntryRecord } from '../../../common/systems/records.js';
import type { SandboxCrm } from '../../../sandbox/crm.js';
import type { LoyaltyEntry, LoyaltyLedgerPort, LoyaltyPosting } from '../ports.js';

type CrmLedger = Pick<SandboxCrm, 'postLoyalty' | 'getLoyaltyLedger'>;

const toEntry = (e: LoyaltyEntryRecord): LoyaltyEntry => ({
  reference: e.reference,
  customerId: e.customerId,
  kind: e.kind,
  points: e.points,
  orderId: e.orderId,
  returnId: e.returnId,
  balance: e.balance,
  postedAt: e.postedAt,
});

/**
 * The loyalty ledger over the sandbox CRM (in process or over HTTP): one CRM call per port call, through the
 * resilience policy (a post is a write, so the policy never retries it; the caller does, by its reference).
 */
export class SandboxLoyaltyLedger implements LoyaltyLedgerPort {
  private readonly crm: CrmLedger;
  constructor(crm: CrmLedger, resilience: ResilienceRegistry) {
    this.crm = resilience.wrap('crm', crm);
  }

  async post(posting: LoyaltyPosting): Promise<LoyaltyEntry | null> {
    const entry = await this.crm.postLoyalty({ ...posting, returnId: posting.returnId ?? null });
    return entry ? toEntry(entry) : null;
  }

  async entriesOf(customerIds: readonly string[]): Promise<LoyaltyEntry[][]> {
    return (await this.crm.getLoyaltyLedger(customerIds)).map((list) => list.map(toEntry));
  }
}
