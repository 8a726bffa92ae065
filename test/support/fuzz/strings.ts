import type { Random } from './random.js';

/*
 * Strings a client should never send and a gateway must still answer: lone surrogates, NUL and other controls,
 * right-to-left overrides, combining marks, emoji, non-characters, and sizes from empty to a megabyte.
 */

const ODD_PIECES = [
  '\u0000',
  '\ud800', // a lone high surrogate
  '\udfff', // a lone low surrogate
  '\udc00\ud800', // surrogates in the wrong order
  '\u202e', // right-to-left override
  '\u200f\u200e', // RTL and LTR marks
  'مرحبا',
  'שלום',
  '\u0301\u0301\u0301', // combining marks with nothing to combine with
  '\ufeff', // byte-order mark
  '\uffff\ufffe', // non-characters
  '😀👩‍👩‍👧‍👦',
  '\u2028\u2029', // line and paragraph separators (not newlines in JSON, newlines in JavaScript)
  '\r\n\t\b\f\u000b',
  '"\\',
  '{}[]',
  '#',
  '$',
  '${}',
  '\\u0000',
  '%00',
  '<script>',
  "' OR 1=1 --",
  '../../etc/passwd',
  'prod-0001',
  'SKU-0001-1',
  'store-001',
  'ＳＫＵ－０００１', // full-width
  'Ⅻ',
  '\u{10ffff}',
  '\u{1f600}',
  ' ',
  '',
];

/** A short odd string: a few odd pieces and ASCII, joined. */
export function oddString(random: Random, maxPieces = 6): string {
  const pieces = random.int(0, maxPieces);
  let text = '';
  for (let i = 0; i < pieces; i++) text += random.chance(0.7) ? random.pick(ODD_PIECES) : String.fromCharCode(random.int(0x20, 0x7e));
  return text;
}

/** A string of about `size` UTF-16 units built from one odd piece (a megabyte of lone surrogates, say). */
export function hugeString(random: Random, size: number): string {
  const piece = random.pick(['x', '\u0000', '\ud800', '😀', 'ש', '\u0301', 'é']);
  return piece.repeat(Math.max(1, Math.floor(size / piece.length)));
}

/** Any string the fuzzer sends where a string goes: mostly short and odd, sometimes long, rarely huge. */
export function fuzzString(random: Random): string {
  return random.weighted<() => string>([
    [70, () => oddString(random)],
    [15, () => hugeString(random, random.int(256, 4096))],
    [8, () => hugeString(random, random.int(10_000, 120_000))],
    [2, () => hugeString(random, 1_050_000)],
    [5, () => ''],
  ])();
}

/** Random bytes, which are rarely valid UTF-8. */
export function garbageBytes(random: Random, size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = random.int(0, 255);
  return bytes;
}

/** Byte sequences that are not UTF-8 at all (overlong forms, lone continuation bytes, a surrogate encoded). */
export const INVALID_UTF8: readonly Buffer[] = [
  Buffer.from([0xff]),
  Buffer.from([0xc0, 0x80]),
  Buffer.from([0x80, 0x80]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0xf4, 0x90, 0x80, 0x80]),
  Buffer.from([0xe2, 0x82]),
];
