import type { ChainableCommander } from 'ioredis';
import { isCluster, pipelineBySlot, type RedisClient } from './connection.js';
import { redisKeys, slotOf, type RedisKeys } from './keys.js';
import type { StockKey, StockRecord } from '../systems/records.js';
import { movementOf, unannouncedIdOf, type AdjustResult, type CommitLine, type CommitmentReference, type CommitResult, type MoveCommitmentResult, type OpenCommitment, type ReservationHold, type ReserveResult, type StockAdjustment, type StockBook, type StockExceptionNote, type StockReservationRecord, type UnannouncedStockWrite, withSafetyStock } from '../systems/stock-book.js';

export interface RedisStockBookOptions {
  /** The shared client (one server or a cluster). The book never closes it: its creator does (see `quitAll`). */
  redis: RedisClient;
  /** Namespace of every key, so that several deployments can share one Redis. Default `'retail'`. */
  prefix?: string;
  /**
   * How many due reservations of one location one expiry script ends at most; `expireReservations` calls it until
   * none is left. Bounds how long one script blocks Redis after a long outage of the expiry timer. Default 500.
   */
  expireBatch?: number;
}

/** How long an applied adjustment's reply is kept for a repeat under its reference, in ms. */
const ADJUSTMENT_KEPT_MS = 86_400_000;

/** Records per batch when seeding: big enough to amortise round trips, small enough not to stall Redis. */
const LOAD_BATCH = 1_000;

// Lua helpers shared by the scripts below (each script is its own chunk, hence pasted, not called).
// A record exists when its hash does; we only ever write all four counters together, so a missing field
// means a hash written by someone else and counts as 0. Numbers go back as %.17g strings: Lua numbers are
// doubles like JS ones, and the string round-trips exactly (a Lua number in a reply would be truncated).
// Every key comes in KEYS (see keys.ts): the stock records of one location, and that location's reservation
// keys, all with the location's hash tag, so that on a cluster each script runs on one slot.
const HELPERS_LUA = `
local function read(key)
  local r = redis.call('HMGET', key, 'onHand', 'committed', 'reserved', 'damaged')
  local exists = (r[1] or r[2] or r[3] or r[4]) and true or false
  return exists, tonumber(r[1]) or 0, tonumber(r[2]) or 0, tonumber(r[3]) or 0, tonumber(r[4]) or 0
end
local function num(x) return string.format('%.17g', x) end
-- What does not fit among lines KEYS[1..n], quantity/safety stock pairs from ARGV[base]: {line index, available}*.
-- Every line is checked against the state before any write, as the sandbox does (a SKU twice is checked twice).
local function shortages(n, base)
  local out = {}
  for i = 1, n do
    local exists, onHand, committed, reserved, damaged = read(KEYS[i])
    local available = 0
    if exists then available = math.max(0, onHand - committed - reserved - damaged - tonumber(ARGV[base + 2 * i - 1])) end
    if available < tonumber(ARGV[base + 2 * i - 2]) then
      out[#out + 1] = i
      out[#out + 1] = num(available)
    end
  end
  return out
end
-- Add to one counter of each line's record. Missing records are left alone (only a line of quantity <= 0 can
-- pass the check without a record; the sandbox would throw on it, we do not invent a record).
local function add(n, base, field)
  for i = 1, n do
    if redis.call('EXISTS', KEYS[i]) == 1 then
      local current = tonumber(redis.call('HGET', KEYS[i], field)) or 0
      redis.call('HSET', KEYS[i], field, num(current + tonumber(ARGV[base + 2 * i - 2])))
    end
  end
end
-- End a reservation (release or expiry): whichever script gets here first finds it, the other finds nothing.
-- Its lines' stock records are KEYS[first .. first + count - 1], in the order of its lines: the caller read the
-- record to name them, and a record never changes once written, so they still match (checked before any write).
-- Returns the record's JSON and its creation stamp, or false.
local function finish(rsvKey, dueKey, madeKey, id, first, count)
  local json = redis.call('HGET', rsvKey, id)
  local reservation = nil
  if json then
    reservation = cjson.decode(json)
    if #reservation.lines ~= count then return redis.error_reply('ERR reservation ' .. id .. ' has ' .. #reservation.lines .. ' lines, ' .. count .. ' stock keys given') end
  end
  local made = redis.call('ZSCORE', madeKey, id)
  redis.call('ZREM', dueKey, id)
  redis.call('ZREM', madeKey, id)
  if not json then return false end
  redis.call('HDEL', rsvKey, id)
  for i, line in ipairs(reservation.lines) do
    local key = KEYS[first + i - 1]
    if redis.call('EXISTS', key) == 1 then
      local reserved = tonumber(redis.call('HGET', key, 'reserved')) or 0
      redis.call('HSET', key, 'reserved', num(math.max(0, reserved - line.quantity)))
    end
  end
  return json, made
end
-- Keep what a write's event needs beside the write, in the same script (see StockBook.unannouncedWrites): the JSON
-- under the write's id in the location's hash, and the write's time (Redis's clock, ms) in its sorted set.
local function unannounce(newsKey, newsAtKey, id, json)
  local t = redis.call('TIME')
  redis.call('HSET', newsKey, id, json)
  redis.call('ZADD', newsAtKey, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), id)
end
`;

// All or nothing over every line, in one script so that two instances cannot both take the last unit.
// KEYS: the lines' stock records. ARGV: quantity, safety stock per line.
// Reply: {} when committed, else {line index, available}* of the lines that do not fit.
const COMMIT_LUA = `${HELPERS_LUA}
local out = shortages(#KEYS, 1)
if #out > 0 then return out end
add(#KEYS, 1, 'committed')
return {}
`;

// COMMIT_LUA under a checkout's reference: a reference still open answers ok, commits nothing and counts as made
// now (a retry of the checkout); a new
// commitment is kept open (record and time) until settled or released. KEYS: the lines' stock records, the
// location's commitments hash, its open set. ARGV: reference, the record JSON, time made (ms), then quantity,
// safety stock per line.
const COMMIT_REF_LUA = `${HELPERS_LUA}
local n = #KEYS - 2
if redis.call('HEXISTS', KEYS[n + 1], ARGV[1]) == 1 then
  -- The checkout is still retrying: keep an open commitment young, so that recovery does not take it for an orphan
  -- while the retry records its order (XX: a settled one stays out of the open set).
  redis.call('ZADD', KEYS[n + 2], 'XX', 'GT', ARGV[3], ARGV[1])
  return {}
end
local out = shortages(n, 4)
if #out > 0 then return out end
add(n, 4, 'committed')
redis.call('HSET', KEYS[n + 1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[n + 2], ARGV[3], ARGV[1])
return {}
`;

// End a commitment once, whoever asks: whoever removes it from the hash gives its units back ('release') or hands
// them over ('fulfil', as FULFIL_LUA). KEYS: the lines' stock records (read from the record by the caller), the
// commitments hash, the open set. ARGV: reference, 'release' or 'fulfil', the time (ms) it must still be open at or
// before ('' for any commitment), then quantity per line. Reply 1 ended, 0 not there (or not open as asked).
const END_REF_LUA = `${HELPERS_LUA}
local n = #KEYS - 2
if ARGV[3] ~= '' then
  local score = redis.call('ZSCORE', KEYS[n + 2], ARGV[1])
  if not score or tonumber(score) > tonumber(ARGV[3]) then return 0 end
end
if redis.call('HDEL', KEYS[n + 1], ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[n + 2], ARGV[1])
for i = 1, n do
  local exists, onHand, committed, reserved, damaged = read(KEYS[i])
  if exists then
    local q = tonumber(ARGV[i + 3])
    if ARGV[2] == 'fulfil' then
      onHand = math.max(0, onHand - q)
      redis.call('HSET', KEYS[i], 'onHand', num(onHand), 'committed', num(math.max(0, committed - q)), 'damaged', num(math.min(damaged, onHand)))
    else
      redis.call('HSET', KEYS[i], 'committed', num(math.max(0, committed - q)))
    end
  end
end
return 1
`;

// Move a commitment between two locations of one slot (one server), in one step: the check and commit at the new
// location and the release at the old, so that no other script sees both held or neither. Moved already: only the
// old one is made sure of. KEYS: the new location's line records (n), its commitments hash, its open set, then the
// old location's line records (n, same lines), its commitments hash, its open set. ARGV: reference, the new record
// JSON, time made (ms), n, then quantity, safety stock per line. Reply: {} moved, {-1} at neither, else shortages.
const MOVE_LUA = `${HELPERS_LUA}
local n = tonumber(ARGV[4])
local fromHash, fromOpen = KEYS[2 * n + 3], KEYS[2 * n + 4]
local function releaseOld()
  if redis.call('HDEL', fromHash, ARGV[1]) == 0 then return end
  redis.call('ZREM', fromOpen, ARGV[1])
  for i = 1, n do
    local key = KEYS[n + 2 + i]
    local exists, onHand, committed = read(key)
    if exists then redis.call('HSET', key, 'committed', num(math.max(0, committed - tonumber(ARGV[5 + 2 * (i - 1)])))) end
  end
end
if redis.call('HEXISTS', KEYS[n + 1], ARGV[1]) == 1 then
  releaseOld()
  return {}
end
if redis.call('HEXISTS', fromHash, ARGV[1]) == 0 then return {-1} end
local out = shortages(n, 5)
if #out > 0 then return out end
add(n, 5, 'committed')
redis.call('HSET', KEYS[n + 1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[n + 2], ARGV[3], ARGV[1])
releaseOld()
return {}
`;

// KEYS: the lines' stock records. ARGV: quantity per line.
const RELEASE_LUA = `${HELPERS_LUA}
for i = 1, #KEYS do
  local exists, onHand, committed = read(KEYS[i])
  if exists then redis.call('HSET', KEYS[i], 'committed', num(math.max(0, committed - tonumber(ARGV[i])))) end
end
return 1
`;

// KEYS: the lines' stock records. ARGV: quantity per line.
const FULFIL_LUA = `${HELPERS_LUA}
for i = 1, #KEYS do
  local exists, onHand, committed, reserved, damaged = read(KEYS[i])
  if exists then
    local q = tonumber(ARGV[i])
    onHand = math.max(0, onHand - q)
    redis.call('HSET', KEYS[i], 'onHand', num(onHand), 'committed', num(math.max(0, committed - q)), 'damaged', num(math.min(damaged, onHand)))
  end
end
return 1
`;

// The sandbox's adjustStock, check and write in one step so that a compare-and-swap on on-hand holds across
// instances. KEYS: the stock record; with a reference also its applied reply, and with a reason too the
// location's unannounced writes (hash, times). ARGV: expectedOnHand or '', countedOnHand or '', onHandDelta, damagedDelta,
// protectPromised ('1' or '0'), how long the reply is kept (ms), the unannounced write's id and its JSON without
// the counts (which the script appends as "after": onHand, committed, reserved, damaged, and "previousOnHand").
// Reply: {'OK' or the refusal, existed ('1'/'0'), onHand, committed, reserved, damaged, previousOnHand}, where
// the counters are the record as written (OK) or as it is (refused).
const ADJUST_LUA = `${HELPERS_LUA}
if KEYS[2] then
  local done = redis.call('GET', KEYS[2])
  -- A repeat answers the first reply, marked as one.
  if done then
    local first = cjson.decode(done)
    first[1] = 'REPEAT'
    return first
  end
end
local exists, onHand, committed, reserved, damaged = read(KEYS[1])
local function reply(status, a, d)
  return {status, exists and '1' or '0', num(a), num(committed), num(reserved), num(d), num(onHand)}
end
if ARGV[1] ~= '' and onHand ~= tonumber(ARGV[1]) then return reply('STALE_QUANTITY', onHand, damaged) end
local newOnHand = onHand + tonumber(ARGV[3])
if ARGV[2] ~= '' then newOnHand = tonumber(ARGV[2]) end
local newDamaged = damaged + tonumber(ARGV[4])
if newOnHand < 0 or newDamaged < 0 or newDamaged > newOnHand then return reply('NEGATIVE_STOCK', onHand, damaged) end
local sound = newOnHand - newDamaged
if ARGV[5] == '1' and sound < committed + reserved and sound < onHand - damaged then return reply('BELOW_PROMISED', onHand, damaged) end
redis.call('HSET', KEYS[1], 'onHand', num(newOnHand), 'committed', num(committed), 'reserved', num(reserved), 'damaged', num(newDamaged))
local applied = reply('OK', newOnHand, newDamaged)
if KEYS[2] then redis.call('SET', KEYS[2], cjson.encode(applied), 'PX', ARGV[6]) end
if KEYS[3] then
  unannounce(KEYS[3], KEYS[4], ARGV[7], string.sub(ARGV[8], 1, -2) .. ',"after":[' .. num(newOnHand) .. ',' .. num(committed) .. ',' .. num(reserved) .. ',' .. num(newDamaged) .. '],"previousOnHand":' .. num(onHand) .. '}')
end
return applied
`;

// The check of COMMIT_LUA, then the hold: reserved units, the next number of the location's sequence (taken only
// on success, as the sandbox does), the record (a field of the location's reservation hash, so that no key is
// built here), its due time and its creation time (Redis's clock, in µs: the order of expiries across locations).
// KEYS: the lines' stock records, reservations, due set, made set, sequence, the location's unannounced writes
// (hash, times), and with a reference the reservation made under it. ARGV: locationId, due score (ms), the
// record's JSON without its id, how long the reference is kept (ms; '0' without one), then quantity, safety stock
// per line.
// Reply: {1, id}, {2, the JSON of the reservation made under the reference already} or {0, {line index, available}*}.
const RESERVE_LUA = `${HELPERS_LUA}
local referenced = ARGV[4] ~= '0'
local n = #KEYS - (referenced and 7 or 6)
if referenced then
  local made = redis.call('GET', KEYS[n + 7])
  if made then return {2, made} end
end
local out = shortages(n, 5)
if #out > 0 then return {0, out} end
add(n, 5, 'reserved')
local id = string.format('rsv-%06d@%s', redis.call('INCR', KEYS[n + 4]), ARGV[1])
local json = '{"id":' .. cjson.encode(id) .. ',' .. string.sub(ARGV[3], 2)
redis.call('HSET', KEYS[n + 1], id, json)
if referenced then redis.call('SET', KEYS[n + 7], json, 'PX', ARGV[4]) end
unannounce(KEYS[n + 5], KEYS[n + 6], 'reserved:' .. id, '{"kind":"RESERVED","reservation":' .. json .. '}')
redis.call('ZADD', KEYS[n + 2], ARGV[2], id)
local t = redis.call('TIME')
redis.call('ZADD', KEYS[n + 3], string.format('%d%06d', tonumber(t[1]), tonumber(t[2])), id)
return {1, id}
`;

// KEYS: reservations, due set, made set, the location's unannounced writes (hash, times), then the reservation's
// stock records in the order of its lines. ARGV: id, holder or '', the release's correlation id as JSON (or
// null). Reply: the record's JSON, or nil.
// A holder, when given, is the one the reservation must have (a shopper ends only their own cart hold): another
// holder's reservation is left alone and answers as an unknown one.
const END_LUA = `${HELPERS_LUA}
if ARGV[2] ~= '' then
  local json = redis.call('HGET', KEYS[1], ARGV[1])
  if not json then return nil end
  if cjson.decode(json).holder ~= ARGV[2] then return nil end
end
local json = finish(KEYS[1], KEYS[2], KEYS[3], ARGV[1], 6, #KEYS - 5)
if json then unannounce(KEYS[4], KEYS[5], 'ended:' .. ARGV[1], '{"kind":"RELEASED","correlationId":' .. ARGV[3] .. ',"reservation":' .. json .. '}') end
return json
`;

// End the given reservations of one location that are still due at ARGV[1] (ms), each exactly like END_LUA.
// KEYS: reservations, due set, made set, the location's unannounced writes (hash, times), then each candidate's
// stock records. ARGV: due score, then per
// candidate: id, number of its stock records in KEYS. Reply: {creation stamp, JSON}* of those it ended.
const EXPIRE_LUA = `${HELPERS_LUA}
local out = {}
local first = 6
local due = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  local count = tonumber(ARGV[i + 1])
  local score = redis.call('ZSCORE', KEYS[2], id)
  -- Released or expired by someone else since the caller looked: nothing to do.
  if score and tonumber(score) <= due then
    local json, made = finish(KEYS[1], KEYS[2], KEYS[3], id, first, count)
    if json then
      unannounce(KEYS[4], KEYS[5], 'ended:' .. id, '{"kind":"EXPIRED","reservation":' .. json .. '}')
      out[#out + 1] = made or '0'
      out[#out + 1] = json
    end
  end
  first = first + count
end
return out
`;

// Seeding: write a record only where none exists, so that an instance that loads late never overwrites what
// another one has changed since. KEYS: the stock record. ARGV: onHand, committed, reserved, damaged.
const LOAD_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'onHand', ARGV[1], 'committed', ARGV[2], 'reserved', ARGV[3], 'damaged', ARGV[4])
return 1
`;

type Arg = string | number;
// ioredis adds `defineCommand` scripts as methods at run time; these describe them. The number of keys comes
// first because it varies with the number of lines.
interface Scripts {
  retailStockCommit(numKeys: number, ...args: Arg[]): Promise<(number | string)[]>;
  retailStockRelease(numKeys: number, ...args: Arg[]): Promise<number>;
  retailStockCommitRef(numKeys: number, ...args: Arg[]): Promise<(number | string)[]>;
  retailStockEndRef(numKeys: number, ...args: Arg[]): Promise<number>;
  retailStockFulfil(numKeys: number, ...args: Arg[]): Promise<number>;
  retailStockMove(numKeys: number, ...args: Arg[]): Promise<(number | string)[]>;
  retailStockAdjust(numKeys: number, ...args: Arg[]): Promise<string[]>;
  retailStockReserve(numKeys: number, ...args: Arg[]): Promise<[1 | 2, string] | [0, (number | string)[]]>;
  retailStockEnd(numKeys: number, ...args: Arg[]): Promise<string | null>;
  retailStockExpire(numKeys: number, ...args: Arg[]): Promise<string[]>;
  retailStockLoad(numKeys: number, ...args: Arg[]): Promise<number>;
}
type ScriptPipeline = ChainableCommander & { [K in keyof Scripts]: (...args: Parameters<Scripts[K]>) => ScriptPipeline };

function defineScripts(redis: RedisClient): RedisClient & Scripts {
  const scripts: Record<keyof Scripts, string> = {
    retailStockCommit: COMMIT_LUA,
    retailStockRelease: RELEASE_LUA,
    retailStockCommitRef: COMMIT_REF_LUA,
    retailStockEndRef: END_REF_LUA,
    retailStockFulfil: FULFIL_LUA,
    retailStockMove: MOVE_LUA,
    retailStockAdjust: ADJUST_LUA,
    retailStockReserve: RESERVE_LUA,
    retailStockEnd: END_LUA,
    retailStockExpire: EXPIRE_LUA,
    retailStockLoad: LOAD_LUA,
  };
  for (const [name, lua] of Object.entries(scripts)) {
    // Several books may share a client; defining once keeps the client's script table stable.
    if (typeof (redis as unknown as Record<string, unknown>)[name] !== 'function') redis.defineCommand(name, { lua });
  }
  return redis as RedisClient & Scripts;
}

type Shortage = { sku: string; available: number };

/**
 * Store stock counts per SKU and location in Redis, shared by every instance of the POS or WMS.
 *
 * It mirrors the sandbox's in-memory `StockBook` method for method (same signatures, results and rules), so
 * that the adapters in front of it need no change; the difference is that the counters live in Redis and are
 * shared by every instance. The sandbox relies on one synchronous step per check-and-write; here each such
 * step is one Lua script, so that no two instances can both take the last unit, and a reservation ends once,
 * by release or expiry, whichever instance gets there first.
 *
 * Every key of one location shares that location's hash tag (see `keys.ts`), so on a Redis Cluster each script
 * runs on one slot: a checkout (all its lines at one location) commits atomically. Reservation ids are numbered
 * per location (`rsv-000001@store-003`); expiries across locations come in the order they were made by Redis's
 * clock, within a location by number.
 *
 * Records come back as new plain objects (the sandbox hands out its live ones). Counts must be finite numbers
 * and `expiresAt` a parseable instant: anything else is refused before Redis is touched.
 */
export class RedisStockBook implements StockBook {
  private readonly redis: RedisClient & Scripts;
  private readonly keys: RedisKeys['stock'];
  private readonly expireBatch: number;
  /** Locations this instance has added to the set that expiry reads (adding is idempotent; this saves the trip). */
  private readonly knownLocations = new Set<string>();
  /** The same for the set of locations with unannounced writes. */
  private readonly knownUnannouncedLocations = new Set<string>();

  constructor(options: RedisStockBookOptions) {
    this.redis = defineScripts(options.redis);
    this.keys = redisKeys(options.prefix ?? 'retail').stock;
    this.expireBatch = positiveInt(options.expireBatch ?? 500, 'expireBatch');
  }

  async getStock(keys: readonly StockKey[]): Promise<(StockRecord | null)[]> {
    if (keys.length === 0) return [];
    // A pipeline per location: on a cluster, the locations' records are on different slots.
    const replies = await pipelineBySlot(this.redis, keys, (key) => this.keys.record(key.locationId, key.sku), (pipeline, key) => pipeline.hmget(this.keys.record(key.locationId, key.sku), 'onHand', 'committed', 'reserved', 'damaged'));
    return keys.map((key, i) => {
      const [error, raw] = replies[i] ?? [new Error('no reply'), null];
      if (error) throw new Error(`reading stock of ${key.sku} at ${key.locationId} failed: ${error.message}`, { cause: error });
      const [onHand, committed, reserved, damaged] = raw as (string | null)[];
      if (onHand == null && committed == null && reserved == null && damaged == null) return null;
      return { sku: key.sku, locationId: key.locationId, onHand: Number(onHand ?? 0), committed: Number(committed ?? 0), reserved: Number(reserved ?? 0), damaged: Number(damaged ?? 0) };
    });
  }

  /**
   * Promise units of several SKUs at one location to an order, all or nothing: either every line fits in
   * what is sellable (on hand less committed, reserved, damaged and the given safety stock) and all are
   * committed, or nothing changes and the shortages are reported. One script checks and writes.
   */
  async commitStock(locationId: string, lines: readonly CommitLine[], reference?: CommitmentReference | null): Promise<CommitResult> {
    if (lines.length === 0) return { ok: true };
    let reply: (number | string)[];
    if (reference) {
      await this.redis.sadd(this.keys.commitmentLocations, locationId);
      const record: OpenCommitment = { reference: reference.reference, locationId, lines: lines.map((l) => ({ sku: l.sku, quantity: l.quantity })), at: reference.at };
      const keys = [...this.lineKeys(locationId, lines), this.keys.commitments(locationId), this.keys.openCommitments(locationId)];
      reply = await this.redis.retailStockCommitRef(keys.length, ...keys, reference.reference, JSON.stringify(record), Date.parse(reference.at), ...checkArgs(lines));
    } else {
      reply = await this.redis.retailStockCommit(lines.length, ...this.lineKeys(locationId, lines), ...checkArgs(lines));
    }
    return reply.length ? { ok: false, shortages: shortagesOf(lines, reply) } : { ok: true };
  }

  /** Settled = out of the open set (the record stays until the commitment ends). */
  async settleCommitment(locationId: string, reference: string): Promise<void> {
    await this.redis.zrem(this.keys.openCommitments(locationId), reference);
  }

  releaseCommitment(locationId: string, reference: string, seenAt?: string): Promise<boolean> {
    return this.endCommitment(locationId, reference, 'release', seenAt);
  }

  fulfillCommitment(locationId: string, reference: string): Promise<boolean> {
    return this.endCommitment(locationId, reference, 'fulfil');
  }

  private async endCommitment(locationId: string, reference: string, how: 'release' | 'fulfil', seenAt?: string): Promise<boolean> {
    const openAtMost = seenAt === undefined ? '' : Date.parse(seenAt);
    if (Number.isNaN(openAtMost)) throw new RangeError(`seenAt must be an ISO 8601 instant, got "${seenAt}"`);
    const json = await this.redis.hget(this.keys.commitments(locationId), reference);
    if (!json) return false;
    const { lines } = JSON.parse(json) as OpenCommitment;
    const keys = [...this.lineKeys(locationId, lines), this.keys.commitments(locationId), this.keys.openCommitments(locationId)];
    return (await this.redis.retailStockEndRef(keys.length, ...keys, reference, how, openAtMost, ...lines.map((l) => finite(l.quantity, 'quantity')))) === 1;
  }

  /**
   * On one server (or two locations whose keys share a slot) one script ({@link MOVE_LUA}). On a cluster the two
   * locations' keys are in different slots, which no script or MULTI may span, so the move is two scripts, the new
   * location first: commit there under the reference (COMMIT_REF_LUA, all or nothing, the record marked
   * `movedFrom` and open), then give it back at the old one (END_REF_LUA). Between the two the units are held at
   * both, never at neither: nothing is oversold, and the old store's units are back a moment later. A caller that
   * dies in between leaves both held: the retry (which finds the commitment at the new location and only releases
   * the old) or checkout recovery (which lists the open commitment with `movedFrom`) finishes it.
   */
  async moveCommitment(fromLocationId: string, toLocationId: string, reference: string, lines: readonly CommitLine[], at: string): Promise<MoveCommitmentResult> {
    const madeAt = Date.parse(at);
    if (!Number.isFinite(madeAt)) throw new RangeError(`at must be an ISO 8601 instant, got "${at}"`);
    const [there, here] = await Promise.all([this.redis.hget(this.keys.commitments(toLocationId), reference), this.redis.hget(this.keys.commitments(fromLocationId), reference)]);
    const stored = there ?? here;
    if (!stored) return { ok: false, reason: 'NOT_FOUND' };
    const commitment = JSON.parse(stored) as OpenCommitment;
    const wanted = withSafetyStock(commitment.lines, lines);
    const record: OpenCommitment = { reference, locationId: toLocationId, lines: commitment.lines, at, movedFrom: fromLocationId };
    await this.redis.sadd(this.keys.commitmentLocations, toLocationId);
    const toKeys = [...this.lineKeys(toLocationId, wanted), this.keys.commitments(toLocationId), this.keys.openCommitments(toLocationId)];
    const fromKeys = [...this.lineKeys(fromLocationId, wanted), this.keys.commitments(fromLocationId), this.keys.openCommitments(fromLocationId)];
    if (!isCluster(this.redis) || slotOf(toKeys[0]!) === slotOf(fromKeys[0]!)) {
      const keys = [...toKeys, ...fromKeys];
      const reply = await this.redis.retailStockMove(keys.length, ...keys, reference, JSON.stringify(record), madeAt, wanted.length, ...checkArgs(wanted));
      if (reply.length === 1 && Number(reply[0]) === -1) return { ok: false, reason: 'NOT_FOUND' };
      return reply.length ? { ok: false, reason: 'SHORTAGE', shortages: shortagesOf(wanted, reply) } : { ok: true };
    }
    if (!there) {
      const reply = await this.redis.retailStockCommitRef(toKeys.length, ...toKeys, reference, JSON.stringify(record), madeAt, ...checkArgs(wanted));
      if (reply.length) return { ok: false, reason: 'SHORTAGE', shortages: shortagesOf(wanted, reply) };
    }
    await this.endCommitment(fromLocationId, reference, 'release');
    return { ok: true };
  }

  async openCommitments(before: string, limit: number): Promise<OpenCommitment[]> {
    // `at` is the open set's time, which a retry's commit moves on (the record keeps the first): the time recovery
    // gives back as seen (releaseCommitment's `seenAt`), as the sandbox's book reports it.
    const found = await this.olderThan(this.keys.commitmentLocations, this.keys.openCommitments, this.keys.commitments, before, limit);
    return found.map(({ json, at }) => ({ ...(JSON.parse(json) as OpenCommitment), at }));
  }


  /** Give committed units back (a declined payment, a cancellation). Never below zero. */
  async releaseStock(locationId: string, lines: readonly { sku: string; quantity: number }[]): Promise<void> {
    if (lines.length === 0) return;
    await this.redis.retailStockRelease(lines.length, ...this.lineKeys(locationId, lines), ...lines.map((l) => finite(l.quantity, 'quantity')));
  }

  /**
   * Committed units leave the location (handed over at the counter, or shipped): on hand and committed both go
   * down by the quantity. Never below zero; damaged never exceeds what is left on hand.
   */
  async fulfillStock(locationId: string, lines: readonly { sku: string; quantity: number }[]): Promise<void> {
    if (lines.length === 0) return;
    await this.redis.retailStockFulfil(lines.length, ...this.lineKeys(locationId, lines), ...lines.map((l) => finite(l.quantity, 'quantity')));
  }

  /** A stock movement (sale at the till, receipt, damage, cycle count), optionally compare-and-swap on on-hand. */
  async adjustStock(adjustment: StockAdjustment): Promise<AdjustResult> {
    const { sku, locationId } = adjustment;
    const optional = (value: number | undefined | null, name: string) => (value == null ? '' : finite(value, name));
    // With a reference, its applied reply is kept beside the record (same slot) for a day: a repeat answers it.
    // and what its event needs is kept with the write until it is announced.
    const { reference, reason } = adjustment;
    const keys = [this.keys.record(locationId, sku)];
    if (reference) keys.push(this.keys.adjustment(locationId, reference));
    if (reference && reason) keys.push(this.keys.unannounced(locationId), this.keys.unannouncedAt(locationId));
    const news = reference && reason ? [unannouncedIdOf.adjusted(reference), JSON.stringify({ kind: 'ADJUSTED', sku, correlationId: adjustment.correlationId ?? null, reason, movement: movementOf(adjustment), ...(adjustment.occurredAt && { occurredAt: adjustment.occurredAt }), ...(adjustment.exception && { exception: adjustment.exception }) })] : [];
    if (news.length) await this.noteUnannouncedAt(locationId);
    const [status, existed, onHand, committed, reserved, damaged, previousOnHand] = await this.redis.retailStockAdjust(
      keys.length,
      ...keys,
      optional(adjustment.expectedOnHand, 'expectedOnHand'),
      optional(adjustment.countedOnHand, 'countedOnHand'),
      finite(adjustment.onHandDelta ?? 0, 'onHandDelta'),
      finite(adjustment.damagedDelta ?? 0, 'damagedDelta'),
      adjustment.protectPromised ? '1' : '0',
      ADJUSTMENT_KEPT_MS,
      ...news,
    );
    const record: StockRecord = { sku, locationId, onHand: Number(onHand), committed: Number(committed), reserved: Number(reserved), damaged: Number(damaged) };
    switch (status) {
      case 'OK':
        return { ok: true, record, previousOnHand: Number(previousOnHand) };
      case 'REPEAT':
        return { ok: true, record, previousOnHand: Number(previousOnHand), repeated: true };
      case 'STALE_QUANTITY':
      case 'NEGATIVE_STOCK':
      case 'BELOW_PROMISED':
        return { ok: false, reason: status, record: existed === '1' ? record : null };
      default:
        throw new Error(`unexpected stock adjustment reply "${status}"`);
    }
  }

  /**
   * Hold units of several SKUs at one location for a cart or a transfer until `expiresAt`, all or nothing and
   * atomic against every commitment and reservation, exactly like commitStock; the units count as `reserved`.
   * The id's sequence (per location) is shared by every instance.
   */
  async reserveStock(locationId: string, lines: readonly CommitLine[], hold: ReservationHold): Promise<ReserveResult> {
    const due = Date.parse(hold.expiresAt);
    // A NaN score would fail in ZADD after the units were reserved (scripts do not roll back).
    if (!Number.isFinite(due)) throw new RangeError(`expiresAt must be an ISO 8601 instant, got "${hold.expiresAt}"`);
    const body = {
      locationId,
      lines: lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
      expiresAt: hold.expiresAt,
      correlationId: hold.correlationId ?? null,
      holder: hold.holder ?? null,
    };
    const args = checkArgs(lines);
    // Before the hold, not after: a process that dies in between leaves a location with nothing to expire (harmless),
    // never a hold that expiry cannot find.
    if (!this.knownLocations.has(locationId)) {
      await this.redis.sadd(this.keys.locations, locationId);
      this.knownLocations.add(locationId);
    }
    await this.noteUnannouncedAt(locationId);
    const keys = [...this.lineKeys(locationId, lines), this.keys.reservations(locationId), this.keys.due(locationId), this.keys.made(locationId), this.keys.sequence(locationId), this.keys.unannounced(locationId), this.keys.unannouncedAt(locationId)];
    if (hold.reference) keys.push(this.keys.reservationReference(locationId, hold.reference));
    const reply = await this.redis.retailStockReserve(keys.length, ...keys, locationId, due, JSON.stringify(body), hold.reference ? ADJUSTMENT_KEPT_MS : 0, ...args);
    if (reply[0] === 0) return { ok: false, shortages: shortagesOf(lines, reply[1]) };
    if (reply[0] === 2) return { ok: true, reservation: JSON.parse(reply[1]) as StockReservationRecord };
    return { ok: true, reservation: { id: reply[1], ...body } };
  }

  /**
   * End a live reservation and give its units back; null when it is unknown, released or expired already, or (with
   * `holder`) held by someone else.
   */
  async releaseReservation(id: string, holder?: string | null, correlationId?: string | null): Promise<StockReservationRecord | null> {
    const locationId = locationOf(id);
    if (locationId === null) return null;
    // The script needs the lines' stock keys, which only the record names: read it first (it never changes once
    // written; the script ends it only if it is still there).
    const stored = await this.redis.hget(this.keys.reservations(locationId), id);
    if (stored == null) return null;
    const lines = (JSON.parse(stored) as StockReservationRecord).lines;
    await this.noteUnannouncedAt(locationId);
    const keys = [this.keys.reservations(locationId), this.keys.due(locationId), this.keys.made(locationId), this.keys.unannounced(locationId), this.keys.unannouncedAt(locationId), ...this.lineKeys(locationId, lines)];
    const json = await this.redis.retailStockEnd(keys.length, ...keys, id, holder ?? '', JSON.stringify(correlationId ?? null));
    return json == null ? null : (JSON.parse(json) as StockReservationRecord);
  }

  /**
   * Release every reservation due at `asOf` (expiresAt at or before it), giving its units back, and say when the
   * next live one is due (null: none left). Each reservation ends once, by release or by expiry, on any instance.
   * Expired reservations come in the order they were made, as in the sandbox.
   */
  async expireReservations(asOf: string): Promise<{ expired: StockReservationRecord[]; nextExpiresAt: string | null }> {
    const parsed = Date.parse(asOf);
    // An unparseable instant is due at no time (the sandbox's `<= NaN`): nothing expires, the next is still told.
    const due = Number.isFinite(parsed) ? parsed : null;
    const locations = await this.redis.smembers(this.keys.locations);
    const perLocation = await Promise.all(locations.map((locationId) => this.expireAt(locationId, due)));
    const expired = perLocation.flatMap((l) => l.expired);
    expired.sort((a, b) => a.made - b.made || sequenceOf(a.record.id) - sequenceOf(b.record.id));
    let next: { at: number; expiresAt: string } | null = null;
    for (const { next: candidate } of perLocation) if (candidate && (!next || candidate.at < next.at)) next = candidate;
    return { expired: expired.map((e) => e.record), nextExpiresAt: next?.expiresAt ?? null };
  }

  /**
   * Seed the records of a data set (name it in `tag`, e.g. `seed-42-scale-1`), once per tag: a later call with
   * the same tag does nothing. Each record is written only where none exists yet, so that concurrent loads by
   * several instances need no lock and never overwrite a record that one of them has changed already.
   */
  async load(records: readonly StockRecord[], tag: string): Promise<void> {
    const doneKey = this.keys.seeded(tag);
    if (await this.redis.exists(doneKey)) return;
    for (let start = 0; start < records.length; start += LOAD_BATCH) {
      const batch = records.slice(start, start + LOAD_BATCH);
      const replies = await pipelineBySlot<StockRecord, ScriptPipeline>(this.redis, batch, (r) => this.keys.record(r.locationId, r.sku), (pipeline, r) =>
        pipeline.retailStockLoad(1, this.keys.record(r.locationId, r.sku), r.onHand, r.committed, r.reserved, r.damaged),
      );
      const failed = replies.find(([error]) => error);
      if (failed?.[0]) throw new Error(`loading stock failed: ${failed[0].message}`, { cause: failed[0] });
    }
    await this.redis.set(doneKey, JSON.stringify({ records: records.length, at: new Date().toISOString() }));
  }

  /** One location's part of {@link expireReservations}: due ones ended in batches, and its earliest live one. */
  private async expireAt(locationId: string, due: number | null): Promise<{ expired: { made: number; record: StockReservationRecord }[]; next: { at: number; expiresAt: string } | null }> {
    const reservations = this.keys.reservations(locationId);
    const dueKey = this.keys.due(locationId);
    const made = this.keys.made(locationId);
    const expired: { made: number; record: StockReservationRecord }[] = [];
    while (due !== null) {
      const ids = await this.redis.zrangebyscore(dueKey, '-inf', due, 'LIMIT', 0, this.expireBatch);
      if (ids.length === 0) break;
      const stored = await this.redis.hmget(reservations, ...ids);
      const stockKeys: string[] = [];
      const args: Arg[] = [due];
      ids.forEach((id, i) => {
        const json = stored[i];
        // A due id without a record (never written by these scripts) gets no keys: the script just drops it.
        const lines = json ? (JSON.parse(json) as StockReservationRecord).lines : [];
        stockKeys.push(...this.lineKeys(locationId, lines));
        args.push(id, lines.length);
      });
      await this.noteUnannouncedAt(locationId);
      const reply = await this.redis.retailStockExpire(5 + stockKeys.length, reservations, dueKey, made, this.keys.unannounced(locationId), this.keys.unannouncedAt(locationId), ...stockKeys, ...args);
      for (let i = 0; i + 1 < reply.length; i += 2) expired.push({ made: Number(reply[i]), record: JSON.parse(reply[i + 1]!) as StockReservationRecord });
      if (ids.length < this.expireBatch) break;
    }
    const [firstId, score] = await this.redis.zrange(dueKey, 0, 0, 'WITHSCORES');
    if (firstId === undefined || score === undefined) return { expired, next: null };
    const json = await this.redis.hget(reservations, firstId);
    // Ended between the two reads: its due time is still the best answer for "when to look again".
    const expiresAt = json ? (JSON.parse(json) as StockReservationRecord).expiresAt : new Date(Number(score)).toISOString();
    return { expired, next: { at: Number(score), expiresAt } };
  }

  async unannouncedWrites(before: string, limit: number): Promise<UnannouncedStockWrite[]> {
    const found = await this.olderThan(this.keys.unannouncedLocations, this.keys.unannouncedAt, this.keys.unannounced, before, limit);
    return found.map(({ id, locationId, at, json }) => unannouncedOf(id, locationId, at, json)).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }

  /**
   * The records, across the locations in set `locations`, whose time in the location's sorted set (`timesOf`) is
   * before `before`, with that time, at most `limit`: each location's oldest first. One ended between the two reads
   * (its hash field `recordsOf` gone) is left out.
   */
  private async olderThan(locations: string, timesOf: (locationId: string) => string, recordsOf: (locationId: string) => string, before: string, limit: number): Promise<{ id: string; locationId: string; at: string; json: string }[]> {
    const cutoff = Date.parse(before);
    const found: { id: string; locationId: string; at: string; json: string }[] = [];
    for (const locationId of await this.redis.smembers(locations)) {
      if (found.length >= limit) break;
      const scored = await this.redis.zrangebyscore(timesOf(locationId), '-inf', `(${cutoff}`, 'WITHSCORES', 'LIMIT', 0, limit - found.length);
      const ids = scored.filter((_, i) => i % 2 === 0);
      if (!ids.length) continue;
      const stored = await this.redis.hmget(recordsOf(locationId), ...ids);
      ids.forEach((id, i) => {
        const json = stored[i];
        if (json) found.push({ id, locationId, at: new Date(Number(scored[2 * i + 1])).toISOString(), json });
      });
    }
    return found;
  }


  async markAnnounced(locationId: string, ids: readonly string[]): Promise<void> {
    if (!ids.length) return;
    await this.redis.multi().hdel(this.keys.unannounced(locationId), ...ids).zrem(this.keys.unannouncedAt(locationId), ...ids).exec();
  }

  /** Before a write that may leave an unannounced write there, not after (as for reservations' locations). */
  private async noteUnannouncedAt(locationId: string): Promise<void> {
    if (this.knownUnannouncedLocations.has(locationId)) return;
    await this.redis.sadd(this.keys.unannouncedLocations, locationId);
    this.knownUnannouncedLocations.add(locationId);
  }

  private lineKeys(locationId: string, lines: readonly { sku: string }[]): string[] {
    return lines.map((l) => this.keys.record(locationId, l.sku));
  }
}

/** Quantity, safety stock per line, as the check in COMMIT_LUA and RESERVE_LUA reads them. */
function checkArgs(lines: readonly CommitLine[]): number[] {
  return lines.flatMap((l) => [finite(l.quantity, 'quantity'), finite(l.safetyStock, 'safetyStock')]);
}

/** `{line index (1-based), available}*` from the check, as the sandbox reports it. */
function shortagesOf(lines: readonly CommitLine[], reply: readonly (number | string)[]): Shortage[] {
  const shortages: Shortage[] = [];
  for (let i = 0; i < reply.length; i += 2) {
    const line = lines[Number(reply[i]) - 1];
    if (!line) throw new Error(`unexpected stock check reply ${JSON.stringify(reply)}`);
    shortages.push({ sku: line.sku, available: Number(reply[i + 1]) });
  }
  return shortages;
}

/** An unannounced write as the scripts stored it (see {@link UnannouncedStockWrite}): the rest is from its keys. */
function unannouncedOf(id: string, locationId: string, at: string, json: string): UnannouncedStockWrite {
  const stored = JSON.parse(json) as { kind: UnannouncedStockWrite['kind']; sku?: string; correlationId?: string | null; reason?: string | null; movement?: Record<string, number>; after?: number[]; previousOnHand?: number; reservation?: StockReservationRecord; occurredAt?: string; exception?: StockExceptionNote };
  if (stored.kind === 'ADJUSTED') {
    const [onHand = 0, committed = 0, reserved = 0, damaged = 0] = stored.after ?? [];
    const sku = stored.sku ?? '';
    return { kind: 'ADJUSTED', id, locationId, at, correlationId: stored.correlationId ?? null, sku, reason: stored.reason ?? null, movement: stored.movement ?? {}, record: { sku, locationId, onHand, committed, reserved, damaged }, previousOnHand: stored.previousOnHand ?? onHand, ...(stored.occurredAt && { occurredAt: stored.occurredAt }), ...(stored.exception && { exception: stored.exception }) };
  }
  const reservation = stored.reservation as StockReservationRecord;
  return { kind: stored.kind, id, locationId, at, correlationId: stored.correlationId !== undefined ? stored.correlationId : (reservation.correlationId ?? null), reservation };
}

function sequenceOf(id: string): number {
  return Number(/^rsv-(\d+)@/.exec(id)?.[1] ?? Number.MAX_SAFE_INTEGER);
}

/** The location an id names (`rsv-<n>@<locationId>`), or null for an id these books never made. */
function locationOf(id: string): string | null {
  return /^rsv-\d+@(.+)$/s.exec(id)?.[1] ?? null;
}

/** Lua would read NaN or Infinity as nil or inf: refused here, before anything is written. */
function finite(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`${name} must be a finite number, got ${value}`);
  return value;
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${value}`);
  return value;
}
