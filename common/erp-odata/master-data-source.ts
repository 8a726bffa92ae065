import { TransportError, type ResilienceRegistry } from '../resilience.js';
import type { ItemStatus, MasterChange, MasterProduct, MasterSnapshot, MasterStockPolicy, MasterVariant } from '../master-data/model.js';
import type { MasterDataSource } from '../master-data/sync.js';
import { odataErrorMessage, type BatchRequest, type ODataAnswer, type ODataClient } from './client.js';

/*
 * The ERP's master data read over OData v4: the item master (entity sets Products and Variants) and the stock
 * policies (StockPolicies).
 *
 * - snapshot: the three sets read in full with `Prefer: odata.track-changes`, their first pages in one `$batch` (so
 *   the service answers them from one state of the ERP), further pages by their `@odata.nextLink`s (one `$batch` per
 *   round of pages); the last page of each carries the `@odata.deltaLink`, whose `$deltatoken` is the ERP's change
 *   sequence the snapshot is as of. Three different tokens would be an inconsistent snapshot: read again.
 * - changesAfter(sequence): the three sets' delta links from that sequence, in one `$batch`; every entry carries
 *   `ChangeSequence` and `ChangedAt`. They are merged in sequence order up to the least position every set's answer
 *   covers (a set cut short by the page size covers only up to its last entry), so no change is skipped. A 410 Gone
 *   on a delta link is POSITION_LOST: the sync starts over from a snapshot.
 *
 * The sync's position is the delta token (the ERP's change sequence), so the port's sequence semantics hold as they
 * do for the sandbox adapter. Each `$batch` runs under the ERP's resilience policy (timeout, retries of these reads,
 * the shared circuit breaker).
 */

const SETS = ['Products', 'Variants', 'StockPolicies'] as const;
type MasterSet = (typeof SETS)[number];

export interface ODataMasterDataOptions {
  /**
   * Entities per page asked for (`Prefer: odata.maxpagesize`); the service may send fewer.
   * @default 5000
   */
  pageSize?: number;
}

const str = (value: unknown): string => (typeof value === 'string' ? value : value === null || value === undefined ? '' : String(value));
const num = (value: unknown): number => (typeof value === 'number' ? value : Number(value));

const toProduct = (e: Record<string, unknown>): MasterProduct => ({
  id: str(e.ID),
  name: str(e.Name),
  description: str(e.Description),
  brand: str(e.Brand),
  category: str(e.Category),
  skus: Array.isArray(e.SKUs) ? e.SKUs.map(str) : [],
});

// Values pass as the ERP sent them (a price of 0, a currency "XXX"): the sync's data-quality controls judge them.
const toVariant = (e: Record<string, unknown>): MasterVariant => ({
  sku: str(e.SKU),
  productId: str(e.ProductID),
  name: str(e.Name),
  color: str(e.Color),
  size: str(e.Size),
  price: { minor: num(e.ListPriceMinor), currency: str(e.Currency) },
  status: str(e.Status) as ItemStatus,
});

const toPolicy = (e: Record<string, unknown>): MasterStockPolicy => ({ sku: str(e.SKU), locationId: str(e.LocationID), safetyStock: num(e.SafetyStock), incoming: num(e.Incoming) });

function toChange(set: MasterSet, e: Record<string, unknown>): MasterChange {
  const sequence = num(e.ChangeSequence);
  const at = str(e.ChangedAt);
  if (!Number.isSafeInteger(sequence)) throw new TransportError(`ERP delta entry of ${set} without a ChangeSequence`);
  switch (set) {
    case 'Products':
      return { sequence, at, kind: 'PRODUCT', product: toProduct(e) };
    case 'Variants':
      return { sequence, at, kind: 'VARIANT', variant: toVariant(e) };
    case 'StockPolicies':
      return { sequence, at, kind: 'STOCK_POLICY', policy: toPolicy(e) };
  }
}

/** The `$deltatoken` of a delta link, as the change sequence it stands for. */
function tokenOf(link: unknown): number {
  const match = typeof link === 'string' ? /[?&]\$deltatoken=(\d+)/.exec(link) : null;
  if (!match) throw new TransportError(`ERP answered a delta link without a sequence token: ${String(link)}`);
  return Number(match[1]);
}

function expectOk(set: MasterSet, answer: ODataAnswer): { value: Record<string, unknown>[]; next: string | undefined; delta: string | undefined } {
  if (answer.status !== 200) throw new TransportError(`ERP ${set} answered ${odataErrorMessage(answer)}`, answer.status >= 500);
  const value = answer.body?.value;
  if (!Array.isArray(value)) throw new TransportError(`ERP ${set} answered no value list`);
  return { value, next: answer.body['@odata.nextLink'], delta: answer.body['@odata.deltaLink'] };
}

/** How many times a snapshot is read again when its sets came from different states of the ERP. */
const SNAPSHOT_ATTEMPTS = 3;

export class ODataMasterDataSource implements MasterDataSource {
  private readonly erp: { readChanges(requests: BatchRequest[]): Promise<ODataAnswer[]>; readSnapshotPages(requests: BatchRequest[]): Promise<ODataAnswer[]> };
  private readonly prefer: string;

  constructor(client: ODataClient, resilience: ResilienceRegistry, options: ODataMasterDataOptions = {}) {
    const pageSize = options.pageSize ?? 5000;
    this.prefer = `odata.maxpagesize=${pageSize}`;
    this.erp = resilience.wrap('erp', { readChanges: (r: BatchRequest[]) => client.batch(r), readSnapshotPages: (r: BatchRequest[]) => client.batch(r) });
  }

  async changesAfter(sequence: number, limit: number): ReturnType<MasterDataSource['changesAfter']> {
    const prefer = `odata.maxpagesize=${limit}`;
    const answers = await this.erp.readChanges(SETS.map((set) => ({ id: set, method: 'GET', url: `${set}?$deltatoken=${sequence}`, headers: { prefer } })));
    if (answers.some((a) => a.status === 410)) return { ok: false, reason: 'POSITION_LOST' };
    let covered = Number.POSITIVE_INFINITY;
    let latest = sequence;
    const changes: MasterChange[] = [];
    SETS.forEach((set, i) => {
      const page = expectOk(set, answers[i]!);
      const entries = page.value.map((e) => toChange(set, e));
      changes.push(...entries);
      if (page.delta !== undefined) latest = Math.max(latest, tokenOf(page.delta));
      else covered = Math.min(covered, entries.at(-1)?.sequence ?? sequence);
      for (const c of entries) latest = Math.max(latest, c.sequence);
    });
    const ordered = changes.filter((c) => c.sequence > sequence && c.sequence <= covered).sort((a, b) => a.sequence - b.sequence);
    return { ok: true, changes: ordered.slice(0, limit), latestSequence: latest };
  }

  async snapshot(): Promise<MasterSnapshot> {
    for (let attempt = 1; ; attempt++) {
      const snapshot = await this.readSnapshot();
      if (snapshot) return snapshot;
      if (attempt >= SNAPSHOT_ATTEMPTS) throw new TransportError(`ERP master data changed during ${SNAPSHOT_ATTEMPTS} snapshot reads in a row`);
    }
  }

  /** One full read of the three sets; null when they are not as of one sequence. */
  private async readSnapshot(): Promise<MasterSnapshot | null> {
    const at = new Date().toISOString();
    const records: Record<MasterSet, Record<string, unknown>[]> = { Products: [], Variants: [], StockPolicies: [] };
    const tokens = new Map<MasterSet, number>();
    let pending: BatchRequest[] = SETS.map((set) => ({ id: set, method: 'GET', url: set, headers: { prefer: `odata.track-changes, ${this.prefer}` } }));
    while (pending.length) {
      const answers = await this.erp.readSnapshotPages(pending);
      const next: BatchRequest[] = [];
      pending.forEach((request, i) => {
        const set = request.id as MasterSet;
        const answer = answers[i]!;
        // The snapshot a paging link pointed into is gone (the ERP moved on and dropped it): read again.
        if (answer.status === 410) throw new TransportError(`ERP ${set}: ${odataErrorMessage(answer)}`);
        const page = expectOk(set, answer);
        records[set].push(...page.value);
        if (page.next) next.push({ id: set, method: 'GET', url: page.next, headers: { prefer: this.prefer } });
        else if (page.delta !== undefined) tokens.set(set, tokenOf(page.delta));
        else throw new TransportError(`ERP ${set} answered a last page without a delta link`);
      });
      pending = next;
    }
    const sequences = new Set(tokens.values());
    if (sequences.size !== 1) return null;
    return {
      sequence: [...sequences][0]!,
      at,
      products: records.Products.map(toProduct),
      variants: records.Variants.map(toVariant),
      policies: records.StockPolicies.map(toPolicy),
    };
  }
}
