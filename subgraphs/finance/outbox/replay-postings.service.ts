import { randomUUID } from 'node:crypto';
import type { EventBackbone } from '../../../common/events.js';
import { callerOf, type CallerScope, type IdempotencyStore } from '../../../common/idempotency.js';
import { runIdempotent, userError, type UserErrorValue } from '../../../common/idempotent-mutation.js';
import type { FinancePosting, LedgerPort } from '../ports.js';
import type { ErpOutbox } from './outbox.js';
import type { OutboxPosting } from './ports.js';

export const MAX_REPLAY_IDS = 100;

export interface ReplayDeps {
  outbox: Pick<ErpOutbox, 'get' | 'requeue' | 'adopt'>;
  /** Looks up ids the outbox does not hold: a dead letter of the ERP's history can be replayed too. */
  ledger: Pick<LedgerPort, 'getPostings'>;
  /** The order's correlation id for an adopted posting (from its events). */
  backbone: Pick<EventBackbone, 'eventsForOrders'>;
  idempotency: IdempotencyStore;
}


export interface ReplayOutcome {
  /** The named postings that exist, in the order named, as they are after the call (a re-queued one is PENDING). */
  postings: (OutboxPosting | FinancePosting)[];
  userErrors: UserErrorValue[];
}

/** What is stored under an idempotency key: enough to give the same answer again. */
interface StoredOutcome {
  ids: string[];
  userErrors: UserErrorValue[];
}


// Keys are per operation too: the same key for a checkout and a replay are two different requests.
const replayScopeOf = (scope: CallerScope) => `finance.replayPostings:${callerOf(scope)}`;

/**
 * Re-queue DEAD_LETTER postings: each becomes PENDING with a fresh retry budget and the worker books it. A posting
 * in any other state is an INVALID_STATE user error (field `ids.<i>`), an id nobody holds is UNKNOWN_POSTING; the
 * others are still replayed. A dead letter only the ERP's history holds is taken over by the outbox first.
 *
 * With an idempotencyKey it behaves like placeOrder: the same key and ids answer the first result (as the postings
 * are now) and re-queue nothing; the same key with other ids is IDEMPOTENCY_KEY_REUSED; while the first still runs,
 * IDEMPOTENCY_KEY_IN_USE. Without one, a repeat finds the postings PENDING (or POSTED) and says so per id.
 */
export async function replayPostings(deps: ReplayDeps, scope: CallerScope, input: { ids: readonly string[]; idempotencyKey?: string | null | undefined }): Promise<ReplayOutcome> {
  const ids = [...new Set(input.ids)];
  if (ids.length === 0 || ids.length > MAX_REPLAY_IDS) return { postings: [], userErrors: [userError('INVALID_INPUT', `name 1 to ${MAX_REPLAY_IDS} postings, got ${ids.length}`, 'ids')] };
  const tooLong = ids.findIndex((id) => id.length === 0 || id.length > 200);
  if (tooLong >= 0) return { postings: [], userErrors: [userError('INVALID_INPUT', 'a posting id is 1 to 200 characters', `ids.${tooLong}`)] };
  // Whatever a failed run re-queued is PENDING now and a retry answers INVALID_STATE for it: the key may go back.
  return runIdempotent<StoredOutcome, ReplayOutcome>({
    store: deps.idempotency,
    caller: replayScopeOf(scope),
    operation: 'replayPostings',
    key: input.idempotencyKey,
    input: { ids },
    refused: (userErrors) => ({ postings: [], userErrors }),
    replay: async (stored) => ({ postings: await current(deps, stored.ids), userErrors: stored.userErrors }),
    run: () => replay(deps, ids),
  });
}

async function replay(deps: ReplayDeps, ids: readonly string[]): Promise<{ outcome: ReplayOutcome; stored: StoredOutcome }> {
  const own = await deps.outbox.get(ids);
  const unknown = ids.filter((_, i) => !own[i]);
  // Only ids the outbox does not hold cost an ERP call; an ERP failure here fails the call (ERP_UNAVAILABLE).
  const history = new Map<string, FinancePosting>();
  if (unknown.length) (await deps.ledger.getPostings(unknown)).forEach((p, i) => p && history.set(unknown[i] as string, p));

  const postings: (OutboxPosting | FinancePosting)[] = [];
  const userErrors: UserErrorValue[] = [];
  const found: string[] = [];
  for (const [i, id] of ids.entries()) {
    const field = `ids.${i}`;
    let posting: OutboxPosting | FinancePosting | null = own[i] ?? null;
    const record = history.get(id);
    if (!posting && record?.status === 'DEAD_LETTER') posting = await deps.outbox.adopt(record, await correlationIdOf(deps, record.orderId));
    else if (!posting && record) {
      postings.push(record);
      found.push(id);
      userErrors.push(userError('INVALID_STATE', `posting ${id} is ${record.status}; only DEAD_LETTER postings can be replayed`, field));
      continue;
    }
    if (!posting) {
      userErrors.push(userError('UNKNOWN_POSTING', `no posting ${id}`, field));
      continue;
    }
    found.push(id);
    const result = await deps.outbox.requeue(id);
    if (result.ok) postings.push(result.posting);
    else {
      postings.push(result.reason === 'INVALID_STATE' ? result.posting : posting);
      userErrors.push(userError('INVALID_STATE', `posting ${id} is ${result.reason === 'INVALID_STATE' ? result.posting.status : posting.status}; only DEAD_LETTER postings can be replayed`, field));
    }
  }
  return { outcome: { postings, userErrors }, stored: { ids: found, userErrors } };
}

/** The postings as they are now (for an idempotent replay's answer). */
async function current(deps: ReplayDeps, ids: readonly string[]): Promise<(OutboxPosting | FinancePosting)[]> {
  const own = await deps.outbox.get(ids);
  const missing = ids.filter((_, i) => !own[i]);
  const history = missing.length ? await deps.ledger.getPostings(missing) : [];
  const byId = new Map(history.filter((p): p is FinancePosting => p !== null).map((p) => [p.id, p]));
  return ids.flatMap((id, i) => {
    const posting = own[i] ?? byId.get(id);
    return posting ? [posting] : [];
  });
}

async function correlationIdOf(deps: ReplayDeps, orderId: string): Promise<string> {
  const [events = []] = await deps.backbone.eventsForOrders([orderId]);
  return events[0]?.correlationId ?? randomUUID();
}
