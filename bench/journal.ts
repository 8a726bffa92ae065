/**
 * `npm run bench:journal`: how long the embedded default takes to start on a DATA_DIR whose journal holds
 * 1,000,000 entries, before and after compaction (issue 12's goal: at most 10 s).
 *
 * The entries are of the journal's real shape: a real stack (`node dist/main.js`) is started once and one order
 * is taken through its life over GraphQL (PlaceOrder, ReadyForPickup, HandOver; finance books the sale in the
 * ERP), and the lines that run journaled (systems' writes, events, a consumer group's take, the idempotency
 * record; the outbox's postings in their own journal) are the template. The bench repeats it, each copy with its
 * own order, ids, keys, customer, SKU, store and times (spread over the last `BENCH_JOURNAL_DAYS` days, so that most
 * idempotency records are past their 24 h), until the journal holds `BENCH_JOURNAL_ENTRIES` entries.
 *
 * Then `node dist/main.js` is started on it four times, each time until `/ready` answers 200: on the journal as
 * written (nothing compacted: every entry is read; a compaction starts once it has), after a clean stop (which
 * compacted), after a kill -9 that followed a few more writes, and on that snapshot with just under
 * JOURNAL_COMPACT_ENTRIES (200,000) more orders' entries appended (the most a journal of this version, which compacts
 * as it runs, holds past its snapshot), besides once on an empty DATA_DIR (the baseline).
 * Each row prints the files' size before that start and what the start read; a second table says, per journal owner
 * (the systems' state and writes, the events, the outbox, …), what it was handed and how long it took to take it in,
 * which with the replay time tells parsing from applying. `BENCH_JOURNAL_KEEP=1` keeps the
 * directory; `BENCH_JOURNAL_WRITE_ONLY=1` only writes it (and keeps it), for profiling a start by hand.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { SUBGRAPH_NAMES } from '../common/config.js';
import { ROOT } from '../scripts/composition.js';
import { contractOperation } from '../scripts/contract.js';
import { freePort } from '../scripts/free-port.js';
import { BENCH_RATE_LIMITS, bearerFrom, startStackProcess } from './stack-process.js';

const ENTRIES = positiveInt(process.env.BENCH_JOURNAL_ENTRIES, 1_000_000);
const DAYS = positiveInt(process.env.BENCH_JOURNAL_DAYS, 60);
/** How long one start may take before the bench gives up on it. */
const START_LIMIT_MS = 300_000;
const NODE_FLAGS = ['--max-semi-space-size=32'];
const TEMPLATE_KEY = 'bench-journal-template';
const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/g;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

function positiveInt(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`expected a positive integer, got "${raw}"`);
  return n;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

interface Template {
  /** Lines written once, at the first start: the master-data snapshot, the consumer groups' joins. */
  head: string[];
  /** The lines one order's life wrote to journal.ndjson, and to finance-outbox.ndjson. */
  order: string[];
  outbox: string[];
  /** The order's id, e.g. `ord-w008267`: copies count up from it, as the order system does on replay. */
  orderId: string;
}

/** One order through its life on a real stack; its journal lines. */
async function recordTemplate(): Promise<Template> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-journal-template-'));
  const stack = await startStackProcess({ DATA_DIR: dir, JOURNAL_COMPACT_ON_CLOSE: 'false', ERP_OUTBOX_POLL_MS: '100' });
  let orderId: string;
  try {
    const graphql = async (authorization: string, name: string, variables: Record<string, unknown>) => {
      const response = await fetch(`${stack.gateway}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify({ query: contractOperation(name), variables }) });
      const body = (await response.json()) as { data?: Record<string, any>; errors?: unknown[] };
      if (body.errors?.length || !body.data) throw new Error(`${name}: ${JSON.stringify(body.errors)}`);
      return body.data;
    };
    const shopper = await bearerFrom(stack.sandbox, { role: 'shopper', customerId: 'cust-00001' });
    const associate = await bearerFrom(stack.sandbox, { role: 'store', locationId: 'store-001' });
    const input = { idempotencyKey: TEMPLATE_KEY, channel: 'WEB', deliveryMethod: 'PICKUP', pickupLocationId: 'store-001', customerId: 'cust-00001', lines: [{ sku: 'SKU-0003-1', quantity: 1 }] };
    const placed = (await graphql(shopper, 'PlaceOrder', { input })).placeOrder;
    const id = placed.order.id as string;
    await graphql(associate, 'ReadyForPickup', { orderId: id });
    await graphql(associate, 'HandOver', { orderId: id });
    orderId = /"orderId":"(ord-w\d+)"/.exec(readFileSync(join(dir, 'journal.ndjson'), 'utf8'))?.[1] ?? '';
    if (!orderId) throw new Error('the template order is not in the journal');
    // Finance books the sale in the ERP in the background: the template ends when the booking is journaled.
    const deadline = Date.now() + 30_000;
    while (!readFileSync(join(dir, 'journal.ndjson'), 'utf8').includes('"type":"JOURNAL_POSTED"')) {
      if (Date.now() > deadline) throw new Error('the sale was not booked in the ERP within 30 s');
      await sleep(100);
    }
  } finally {
    await stack.stop();
  }
  const lines = (name: string) => readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean);
  // JOURNAL_COMPACT_ON_CLOSE=false kept every journal's entries in its active segment.
  const main = lines('journal.ndjson');
  const once = (line: string) => line.startsWith('{"t":"md"') || line.startsWith('{"t":"join"');
  const template = { head: main.filter(once), order: main.filter((l) => !once(l)), outbox: lines('finance-outbox.ndjson'), orderId };
  rmSync(dir, { recursive: true, force: true });
  return template;
}

/** The template's block for copy `k`: its own order id and number, ids, key, SKU, store, and times shifted. */
function copier(template: Template, count: number) {
  const base = Number(template.orderId.slice('ord-w'.length));
  const width = template.orderId.length - 'ord-w'.length;
  const number = `W1${template.orderId.slice('ord-w'.length)}`;
  const span = DAYS * 86_400_000;
  const anchor = Date.now();
  return (lines: string[], k: number): string => {
    const id = String(base + k).padStart(width, '0');
    const uuids = new Map<string, string>();
    // Oldest first, the last copy about now: a journal written over DAYS days.
    const shift = anchor - span + Math.floor((span * k) / count) - anchor;
    const sku = `SKU-${String(1 + (k % 500)).padStart(4, '0')}-1`;
    const store = `store-${String(1 + (k % 20)).padStart(3, '0')}`;
    const customer = `cust-${String(1 + (k % 2000)).padStart(5, '0')}`;
    return lines
      .join('\n')
      .replaceAll(template.orderId, `ord-w${id}`)
      .replaceAll(number, `W1${id}`)
      .replaceAll(TEMPLATE_KEY, `bench-journal-${k}`)
      .replaceAll('SKU-0003-1', sku)
      .replaceAll('store-001', store)
      .replaceAll('cust-00001', customer)
      .replace(UUID, (u) => {
        let fresh = uuids.get(u);
        if (!fresh) uuids.set(u, (fresh = `${k.toString(16).padStart(8, '0')}-${uuids.size.toString(16).padStart(4, '0')}-4000-8000-${u.slice(-12)}`));
        return fresh;
      })
      .replace(ISO, (t) => new Date(Date.parse(t) + shift).toISOString());
  };
}

/** A DATA_DIR with `ENTRIES` entries in journal.ndjson (and the outbox's postings of the same orders). */
async function writeDataDir(template: Template): Promise<{ dir: string; orders: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-journal-'));
  const orders = Math.ceil((ENTRIES - template.head.length) / template.order.length);
  const copy = copier(template, orders);
  const main = createWriteStream(join(dir, 'journal.ndjson'));
  const outbox = createWriteStream(join(dir, 'finance-outbox.ndjson'));
  const write = async (stream: ReturnType<typeof createWriteStream>, text: string) => {
    if (!stream.write(text)) await once(stream, 'drain');
  };
  let written = 0;
  await write(main, `${template.head.join('\n')}\n`);
  written += template.head.length;
  for (let k = 0; k < orders; k++) {
    const block = template.order.slice(0, Math.min(template.order.length, ENTRIES - written));
    written += block.length;
    await write(main, `${copy(block, k)}\n`);
    if (template.outbox.length) await write(outbox, `${copy(template.outbox, k)}\n`);
  }
  main.end();
  outbox.end();
  await Promise.all([once(main, 'close'), once(outbox, 'close')]);
  return { dir, orders };
}

/** Entries past a snapshot at which this version compacts (JOURNAL_COMPACT_ENTRIES' default, common/journal.ts). */
const COMPACT_ENTRIES = 200_000;

/** Append whole orders' blocks (copies `from` on) to journal.ndjson, at most `limit` entries; how many it wrote. */
async function appendOrders(dir: string, template: Template, from: number, limit: number): Promise<number> {
  const count = Math.floor(limit / template.order.length);
  const copy = copier(template, from + count);
  const main = createWriteStream(join(dir, 'journal.ndjson'), { flags: 'a' });
  const outbox = createWriteStream(join(dir, 'finance-outbox.ndjson'), { flags: 'a' });
  for (let k = from; k < from + count; k++) {
    if (!main.write(`${copy(template.order, k)}\n`)) await once(main, 'drain');
    if (template.outbox.length && !outbox.write(`${copy(template.outbox, k)}\n`)) await once(outbox, 'drain');
  }
  main.end();
  outbox.end();
  await Promise.all([once(main, 'close'), once(outbox, 'close')]);
  return count * template.order.length;
}

interface StartResult {
  readyMs: number;
  /** CPU time (user + system) of the process until ready. */
  cpuMs: number;
  /** The journal's replay as the stack logged it ('journal opened', `replayMs`). */
  replayMs: number | null;
  replayed: number | null;
  snapshotRecords: number | null;
  /** Per journal owner: what it was handed and the ms it took to take it in (the journal's ReplayStats.owners). */
  owners: Record<string, { records: number; bytes: number; ms: number }>;
  rssMb: number;
}

/** `node dist/main.js` on `dir`, timed until /ready answers 200; stopped with `stop` afterwards. */
async function timeStart(dir: string, stop: 'SIGTERM' | 'SIGKILL', beforeStop?: (gateway: string, sandbox: string) => Promise<void>): Promise<StartResult & { stopMs: number }> {
  const env: Record<string, string> = { LOG_LEVEL: 'info', LOG_FORMAT: 'json', HOST: '127.0.0.1', DATA_DIR: dir, NODE_ENV: 'development', ...BENCH_RATE_LIMITS };
  for (const name of ['GATEWAY_PORT', ...SUBGRAPH_NAMES.map((s) => `${s.toUpperCase()}_PORT`), 'SANDBOX_PORT']) env[name] = String(await freePort());
  let output = '';
  const started = performance.now();
  const child = spawn(process.execPath, [...NODE_FLAGS, resolve(ROOT, 'dist/main.js')], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const gateway = `http://127.0.0.1:${env.GATEWAY_PORT}`;
  try {
    while (!(await fetch(`${gateway}/ready`).then((r) => r.status === 200, () => false))) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the stack exited before it was ready:\n${output.slice(-3000)}`);
      if (performance.now() - started > START_LIMIT_MS) throw new Error(`not ready after ${START_LIMIT_MS} ms`);
      await sleep(20);
    }
    const readyMs = performance.now() - started;
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    // CPU the process spent until ready (user + system, /proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms):
    // unlike the wall time, hardly changed by other processes competing for the cores.
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuMs = (Number(fields[11]) + Number(fields[12])) * 10;
    await beforeStop?.(gateway, `http://127.0.0.1:${env.SANDBOX_PORT}`);
    const stopping = performance.now();
    child.kill(stop);
    await exited;
    const opened = output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg?: string; replayed?: number; snapshotRecords?: number; replayMs?: number; owners?: StartResult['owners'] })
      .find((l) => l.msg === 'journal opened');
    return { readyMs, cpuMs, replayMs: opened?.replayMs ?? null, stopMs: performance.now() - stopping, replayed: opened?.replayed ?? null, snapshotRecords: opened?.snapshotRecords ?? null, owners: opened?.owners ?? {}, rssMb: rss };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  }
}

function journalFiles(dir: string): { files: string[]; bytes: number } {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ndjson')).sort();
  return { files, bytes: files.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0) };
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  process.stdout.write(`recording one order's life on a real stack...\n`);
  const template = await recordTemplate();
  process.stdout.write(`template: ${template.order.length} journal lines and ${template.outbox.length} outbox lines per order, ${template.head.length} written once\n`);
  const generating = performance.now();
  const { dir, orders } = await writeDataDir(template);
  process.stdout.write(`wrote ${ENTRIES.toLocaleString('en')} entries (${orders.toLocaleString('en')} orders over ${DAYS} days) to ${dir} in ${seconds(performance.now() - generating)}\n\n`);
  // For profiling a start by hand (`node --cpu-prof dist/main.js` with DATA_DIR=<dir>): the directory, kept, and no starts.
  if (process.env.BENCH_JOURNAL_WRITE_ONLY) return;
  try {
    const rows: { start: string; before: ReturnType<typeof journalFiles>; result: StartResult & { stopMs: number }; stop: string }[] = [];
    // The same start on an empty DATA_DIR: what the stack takes on this machine, journal or not.
    const empty = mkdtempSync(join(tmpdir(), 'bench-journal-empty-'));
    rows.push({ start: 'empty DATA_DIR (baseline)', before: journalFiles(empty), result: await timeStart(empty, 'SIGTERM'), stop: 'SIGTERM' });
    rmSync(empty, { recursive: true, force: true });
    let before = journalFiles(dir);
    rows.push({ start: 'journal as written (no snapshot)', before, result: await timeStart(dir, 'SIGTERM'), stop: 'SIGTERM (compacts)' });
    before = journalFiles(dir);
    // A few writes after the snapshot, then kill -9: the next start reads the snapshot and those entries.
    const afterKill = async (gateway: string, sandbox: string) => {
      const authorization = await bearerFrom(sandbox, { role: 'store', locationId: 'store-001' });
      for (let i = 0; i < 5; i++) {
        const response = await fetch(`${gateway}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization },
          body: JSON.stringify({ query: contractOperation('AdjustStock'), variables: { input: { idempotencyKey: `bench-journal-adjust-${i}`, locationId: 'store-001', sku: 'SKU-0001-1', delta: 1, reason: 'RECEIPT' } } }),
        });
        await response.text();
      }
    };
    rows.push({ start: 'after compaction (snapshot)', before, result: await timeStart(dir, 'SIGKILL', afterKill), stop: 'SIGKILL after 5 writes' });
    before = journalFiles(dir);
    rows.push({ start: 'snapshot + entries after a kill -9', before, result: await timeStart(dir, 'SIGTERM'), stop: 'SIGTERM (compacts)' });
    const after = journalFiles(dir);
    // The most a journal of this version holds: it compacts every JOURNAL_COMPACT_ENTRIES (200,000) entries as it
    // runs, so a million entries written by it are a snapshot and, at worst, just under 200,000 entries since.
    const tail = await appendOrders(dir, template, orders, COMPACT_ENTRIES - 1);
    before = journalFiles(dir);
    rows.push({ start: `snapshot + ${tail.toLocaleString('en')} entries (the most this version leaves past a snapshot)`, before, result: await timeStart(dir, 'SIGTERM'), stop: 'SIGTERM (compacts)' });

    const table = [
      ['start on', 'journal files before', 'size before', 'entries read', 'snapshot records', 'replay', 'time to /ready', 'CPU until ready', 'RSS at ready', 'stop', 'stop took'],
      ...rows.map((r) => [
        r.start,
        r.before.files.join(' ') || '-',
        mb(r.before.bytes),
        String(r.result.replayed ?? '?'),
        String(r.result.snapshotRecords ?? '?'),
        r.result.replayMs === null ? '?' : seconds(r.result.replayMs),
        seconds(r.result.readyMs),
        seconds(r.result.cpuMs),
        `${r.result.rssMb.toFixed(0)} MB`,
        r.stop,
        seconds(r.result.stopMs),
      ]),
    ];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
    process.stdout.write(`${line(table[0]!)}\n| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |\n${table.slice(1).map(line).join('\n')}\n\n`);
    // Where the replay went, owner by owner (reading and parsing the lines is the replay time less these).
    const owners = [...new Set(rows.flatMap((r) => Object.keys(r.result.owners)))].sort();
    const perOwner = [
      ['start on', ...owners.map((o) => `${o}: records / MB / ms`)],
      ...rows.slice(1).map((r) => [r.start, ...owners.map((o) => {
        const t = r.result.owners[o];
        return t ? `${t.records} / ${(t.bytes / 1024 / 1024).toFixed(1)} / ${t.ms}` : '-';
      })]),
    ];
    const ownerWidths = perOwner[0]!.map((_, i) => Math.max(...perOwner.map((row) => row[i]!.length)));
    const ownerLine = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(ownerWidths[i]!)).join(' | ')} |`;
    process.stdout.write(`${ownerLine(perOwner[0]!)}\n| ${ownerWidths.map((w) => '-'.repeat(w)).join(' | ')} |\n${perOwner.slice(1).map(ownerLine).join('\n')}\n\n`);
    process.stdout.write(`journal size: ${mb(rows[1]!.before.bytes)} as written, ${mb(after.bytes)} after compaction (${after.files.join(' ')})\n`);
    process.stdout.write(`load average when done: ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores (the wall times include waiting for the cores; the CPU column does not)\n`);
    const verdict = (which: typeof rows) => {
      const worst = Math.max(...which.map((r) => r.result.readyMs));
      return `${worst <= 10_000 ? 'met' : 'NOT met'} (slowest ${seconds(worst)})`;
    };
    process.stdout.write(`goal: ready within 10 s on ${ENTRIES.toLocaleString('en')} entries as this version keeps them (snapshot and entries since): ${verdict(rows.slice(2))}\n`);
    process.stdout.write(`      and on the journal as written, never compacted (a version before compaction wrote it): ${verdict(rows.slice(1, 2))}\n`);
  } finally {
    if (!process.env.BENCH_JOURNAL_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
