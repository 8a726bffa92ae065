import { createHash } from 'node:crypto';

/**
 * Every Redis key the graph writes, in one place, with the hash tag that puts it in its cluster slot.
 *
 * On a Redis Cluster a key's slot is the CRC16 of its hash tag (the text between the first `{` and the next `}`)
 * or, without one, of the whole key; a Lua script, a MULTI or a pipeline may only touch keys of one slot. So every
 * key that a script or transaction touches together with another carries the same tag, and no script builds a key
 * name itself (all keys come in `KEYS[]`, so that the client routes the call and the server can check it). On one
 * server the tags change nothing.
 *
 * `<p>` is `REDIS_PREFIX` (default `retail`; no braces, see `common/config.ts`).
 *
 * | key | type | hash tag (slot) | touched together by |
 * | --- | --- | --- | --- |
 * | `<p>:stock:{<loc>}:<sku>` | hash onHand, committed, reserved, damaged | the location | a checkout's commit / release / fulfil (all lines at one location), adjust, reserve |
 * | `<p>:stock-rsv:{<loc>}` | hash reservation id → record JSON | the location | reserve, release, expiry, with the location's stock records |
 * | `<p>:stock-rsv:{<loc>}:due` | sorted set id by due time (ms) | the location | reserve, release, expiry |
 * | `<p>:stock-rsv:{<loc>}:made` | sorted set id by creation time (µs, Redis `TIME`) | the location | reserve, release, expiry (cross-location order of expiries) |
 * | `<p>:stock-rsv:{<loc>}:seq` | counter of the location's reservation ids (`rsv-000001@<loc>`) | the location | reserve |
 * | `<p>:stock-cmt:{<loc>}` | hash checkout reference → open commitment JSON | the location | commit with a reference, settle, release, with the location's stock records |
 * | `<p>:stock-cmt:{<loc>}:open` | sorted set reference by time made (ms) | the location | the same |
 * | `<p>:stock-adj:{<loc>}:<reference>` | an applied adjustment's reply (PX 24 h) | the location | adjust with a reference |
 * | `<p>:stock-cmt:locations` | set of locations that ever held a referenced commitment | its own | added to before such a commit, read by checkout recovery |
 * | `<p>:stock-rsv:locations` | set of locations that ever held a reservation | its own | read by expiry, added to before a reserve |
 * | `<p>:stock:seeded:<tag>` | marker: the seed data set was loaded | its own | nothing else |
 * | `<p>:{events}` | the event stream, with its consumer groups | `events` | publish (with the seen flag) |
 * | `<p>:{events}:seen:<eventId>` | de-duplication flag (PX 30 days) | `events` | publish, history load |
 * | `<p>:order-events:{<orderId>}` | list of the order's event JSON (`Order.timeline`) | the order | append (with its id set) |
 * | `<p>:order-events:{<orderId>}:ids` | set of the event ids in that list | the order | append |
 * | `<p>:history-loaded:<tag>`, `<p>:history-loading:<tag>` | marker, loader's lock | their own | nothing else |
 * | `<p>:stream:<kind>:{<id>}:seq` | counter: the stream's latest sequence, one per change (`kind` order or location) | the order / the location | publish's sequence step |
 * | `<p>:stream:<kind>:{<id>}:ids` | sorted set event id by the last sequence of its block (a repeated publish gets its first block) | the order / the location | publish's sequence step |
 * | `<p>:stream:<kind>:{<id>}:events` | sorted set event JSON by the last sequence of its block, the last `EVENT_STREAM_RETENTION` changes (resume) | the order / the location | publish's sequence step, resume reads |
 * | `<p>:idem:{<sha256(scope)>:<sha256(key)>}` | hash state, fingerprint, response | the scope and key | begin, complete |
 * | `<p>:{outbox}:posting:<id>` | posting JSON | `outbox` | save (MULTI with the indexes below) |
 * | `<p>:{outbox}:order:<orderId>` | set of posting ids | `outbox` | save |
 * | `<p>:{outbox}:due`, `:by-source`, `:by-created` | sorted sets of posting ids | `outbox` | save, claim |
 * | `<p>:{event-outbox}:batches`, `:by-time` | hash batch id → events JSON, sorted set by recording time | `event-outbox` | record (MULTI), publish done (MULTI) |
 * | `<p>:{md}:snapshot`, `:log`, `:position`, `:epoch`, `:exceptions`, `:exception-ids` | the master-data read models | `md` | every write script and MULTI of the store |
 * | `<p>:md:sync-lease` | the sync's lease | its own | nothing else |
 * | `<p>:ratelimit:<rule>:<caller>` | token bucket | its own | nothing else |
 *
 * Two operations would span slots if written as one step, and are two idempotent steps instead:
 * - **Publishing an event of an order**: the stream lives in one slot (a stream is one key), each order's list in
 *   the order's. Publish appends to the order's list first (skipped when the id is in the order's id set), then
 *   to the stream (skipped when the seen flag is set). A publisher that dies between the two leaves the event in
 *   the timeline and not yet on the stream; publishing it again (the caller's retry) completes it, and never
 *   doubles it. Before either, the event gets its sequence in each of its streams (the order's, the location's:
 *   one script per stream, in the stream's slot, which also keeps the event for resuming); the same id gets the
 *   same sequence again, so a retry completes the publish with the sequences it had.
 * - **Expiring reservations** across locations: the set of locations is read first, then each location's due
 *   reservations end in one script per location (each ends once, whichever instance or release gets there
 *   first).
 *
 * Per-location stock keeps a checkout atomic (its lines are all at one location) at the cost of putting all of one
 * location's stock in one slot; a cluster spreads locations over its masters, not SKUs.
 */
export interface RedisKeys {
  stock: {
    record(locationId: string, sku: string): string;
    reservations(locationId: string): string;
    due(locationId: string): string;
    made(locationId: string): string;
    sequence(locationId: string): string;
    commitments(locationId: string): string;
    adjustment(locationId: string, reference: string): string;
    /** The reservation made under a reference (its JSON), kept a day. */
    reservationReference(locationId: string, reference: string): string;
    openCommitments(locationId: string): string;
    /** A location's writes whose events are not handed over yet: id → what the event needs. */
    unannounced(locationId: string): string;
    /** The same writes' times (ms), for the oldest first. */
    unannouncedAt(locationId: string): string;
    unannouncedLocations: string;
    commitmentLocations: string;
    locations: string;
    seeded(tag: string): string;
  };
  events: {
    stream: string;
    seen(eventId: string): string;
    order(orderId: string): string;
    orderIds(orderId: string): string;
    historyLoaded(tag: string): string;
    historyLoading(tag: string): string;
    /** A resumable stream's keys (see the table): `kind` is `order` or `location`. */
    streamSequence(kind: string, id: string): string;
    streamIds(kind: string, id: string): string;
    streamEvents(kind: string, id: string): string;
  };
  idempotency(scope: string, key: string): string;
  outbox(suffix: string): string;
  /** The event outbox (common/outbox): batches of events waiting to be published. */
  eventOutbox(suffix: string): string;
  masterData(name: string): string;
  syncLease: string;
  rateLimit(rule: string, caller: string): string;
}

/** The keys of one deployment (`prefix` = `REDIS_PREFIX`). */
export function redisKeys(prefix: string): RedisKeys {
  if (/[{}]/.test(prefix)) throw new RangeError(`a Redis key prefix must not contain { or }, got "${prefix}"`);
  const p = prefix;
  return {
    stock: {
      record: (locationId, sku) => `${p}:stock:{${locationId}}:${sku}`,
      reservations: (locationId) => `${p}:stock-rsv:{${locationId}}`,
      due: (locationId) => `${p}:stock-rsv:{${locationId}}:due`,
      made: (locationId) => `${p}:stock-rsv:{${locationId}}:made`,
      sequence: (locationId) => `${p}:stock-rsv:{${locationId}}:seq`,
      commitments: (locationId) => `${p}:stock-cmt:{${locationId}}`,
      adjustment: (locationId, reference) => `${p}:stock-adj:{${locationId}}:${reference}`,
      reservationReference: (locationId, reference) => `${p}:stock-rsv:{${locationId}}:ref:${reference}`,
      openCommitments: (locationId) => `${p}:stock-cmt:{${locationId}}:open`,
      unannounced: (locationId) => `${p}:stock-news:{${locationId}}`,
      unannouncedAt: (locationId) => `${p}:stock-news:{${locationId}}:at`,
      unannouncedLocations: `${p}:stock-news:locations`,
      commitmentLocations: `${p}:stock-cmt:locations`,
      locations: `${p}:stock-rsv:locations`,
      seeded: (tag) => `${p}:stock:seeded:${tag}`,
    },
    events: {
      stream: `${p}:{events}`,
      seen: (eventId) => `${p}:{events}:seen:${eventId}`,
      order: (orderId) => `${p}:order-events:{${orderId}}`,
      orderIds: (orderId) => `${p}:order-events:{${orderId}}:ids`,
      historyLoaded: (tag) => `${p}:history-loaded:${tag}`,
      historyLoading: (tag) => `${p}:history-loading:${tag}`,
      streamSequence: (kind, id) => `${p}:stream:${kind}:{${id}}:seq`,
      streamIds: (kind, id) => `${p}:stream:${kind}:{${id}}:ids`,
      streamEvents: (kind, id) => `${p}:stream:${kind}:{${id}}:events`,
    },
    // Hashed parts: keys and scopes come from callers, may be long and may contain anything (braces included).
    idempotency: (scope, key) => `${p}:idem:{${sha256(scope)}:${sha256(key)}}`,
    outbox: (suffix) => `${p}:{outbox}:${suffix}`,
    eventOutbox: (suffix) => `${p}:{event-outbox}:${suffix}`,
    masterData: (name) => `${p}:{md}:${name}`,
    syncLease: `${p}:md:sync-lease`,
    rateLimit: (rule, caller) => `${p}:ratelimit:${rule}:${caller}`,
  };
}

/**
 * The hash tag of a key, as Redis Cluster reads it (the whole key when it has none), for tests and for grouping
 * commands by slot.
 */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

/**
 * The cluster slot of a key (CRC16/XMODEM of its hash tag, modulo 16384), as Redis Cluster computes it: lets a
 * client group commands by the node that serves them.
 */
export function slotOf(key: string): number {
  let crc = 0;
  for (const byte of Buffer.from(hashTagOf(key), 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16_384;
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
