import { Journal, type JournalOptions, type JournalOwner } from '../../../common/journal.js';
import type { OutboxFilter, OutboxPosting, OutboxStore } from './ports.js';

const byNewest = (a: OutboxPosting, b: OutboxPosting) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1);

/** The outbox in memory: one process, gone with it. */
export class InMemoryOutboxStore implements OutboxStore {
  private readonly postings = new Map<string, OutboxPosting>();
  private readonly idsByOrder = new Map<string, Set<string>>();
  /** Ids of PENDING and FAILED postings: the worker's look for due ones is not a scan of everything ever posted. */
  private readonly open = new Set<string>();

  async get(ids: readonly string[]) {
    return ids.map((id) => this.postings.get(id) ?? null);
  }

  async byOrder(orderIds: readonly string[]) {
    return orderIds.map((orderId) => [...(this.idsByOrder.get(orderId) ?? [])].map((id) => this.postings.get(id) as OutboxPosting).sort((a, b) => -byNewest(a, b)));
  }

  async list(filter: OutboxFilter, limit: number) {
    const statuses = filter.statuses?.length ? new Set(filter.statuses) : null;
    const source = filter.orderId ? (await this.byOrder([filter.orderId]))[0]! : [...this.postings.values()];
    return source.filter((p) => !statuses || statuses.has(p.status)).sort(byNewest).slice(0, limit);
  }

  async bySourceTime(from: string, to: string) {
    const start = Date.parse(from);
    const end = Date.parse(to);
    return [...this.postings.values()].filter((p) => {
      const at = Date.parse(p.sourceOccurredAt);
      return at >= start && at < end;
    });
  }

  async due(now: string, limit: number) {
    const at = Date.parse(now);
    const due: OutboxPosting[] = [];
    for (const id of this.open) {
      const p = this.postings.get(id);
      if (p?.nextAttemptAt && Date.parse(p.nextAttemptAt) <= at) due.push(p);
    }
    return due.sort((a, b) => (a.nextAttemptAt! < b.nextAttemptAt! ? -1 : a.nextAttemptAt! > b.nextAttemptAt! ? 1 : a.createdAt < b.createdAt ? -1 : 1)).slice(0, limit);
  }

  async save(posting: OutboxPosting) {
    this.apply(posting);
  }

  /** Every posting, in the order first saved. */
  all(): OutboxPosting[] {
    return [...this.postings.values()];
  }

  /** Take a posting in without any durability (also used by the journaled store when it replays). */
  apply(posting: OutboxPosting): void {
    this.postings.set(posting.id, posting);
    let ids = this.idsByOrder.get(posting.orderId);
    if (!ids) this.idsByOrder.set(posting.orderId, (ids = new Set()));
    ids.add(posting.id);
    if (posting.status === 'PENDING' || posting.status === 'FAILED') this.open.add(posting.id);
    else this.open.delete(posting.id);
  }

  async close() {}
}

type OutboxJournalEntry = { t: 'posting'; posting: OutboxPosting };

/**
 * The outbox that survives a restart: every save is appended (fsync'd) to `finance-outbox.ndjson` in DATA_DIR
 * before it resolves, and the latest state of each posting is read back on open. A crash after an ERP post and
 * before its save is safe: the worker posts again and the ERP answers the booking it already holds.
 */
export class JournaledOutboxStore implements OutboxStore, JournalOwner<OutboxJournalEntry, OutboxPosting> {
  readonly types = ['posting'] as const;
  private readonly memory = new InMemoryOutboxStore();
  /** Saves appended and not yet in memory (a save writes ahead): a snapshot taken meanwhile must hold them. */
  private readonly inFlight = new Set<{ posting: OutboxPosting }>();

  private constructor(private readonly journal: Journal) {
    journal.register('outbox', this);
  }

  /** @param options `name` @default 'finance-outbox.ndjson'; the rest as for every DATA_DIR journal. */
  static async open(dir: string, options: JournalOptions = {}): Promise<JournaledOutboxStore> {
    const journal = await Journal.create(dir, { ...options, name: options.name ?? 'finance-outbox.ndjson' });
    const store = new JournaledOutboxStore(journal);
    await journal.replay();
    return store;
  }

  /** The latest state of each posting: a posting's earlier saves fold into it. */
  snapshot(): OutboxPosting[] {
    return [...this.memory.all(), ...[...this.inFlight].map((f) => f.posting)];
  }
  restore(posting: OutboxPosting): void {
    this.memory.apply(posting);
  }
  replay(entry: OutboxJournalEntry): void {
    this.memory.apply(entry.posting);
  }

  get(ids: readonly string[]) {
    return this.memory.get(ids);
  }
  byOrder(orderIds: readonly string[]) {
    return this.memory.byOrder(orderIds);
  }
  list(filter: OutboxFilter, limit: number) {
    return this.memory.list(filter, limit);
  }
  bySourceTime(from: string, to: string) {
    return this.memory.bySourceTime(from, to);
  }
  due(now: string, limit: number) {
    return this.memory.due(now, limit);
  }

  async save(posting: OutboxPosting) {
    const flight = { posting };
    this.inFlight.add(flight);
    try {
      await this.journal.append({ t: 'posting', posting } satisfies OutboxJournalEntry);
      this.memory.apply(posting);
    } finally {
      this.inFlight.delete(flight);
    }
  }

  close() {
    return this.journal.close();
  }
}
