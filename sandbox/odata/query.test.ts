import { describe, expect, it } from 'vitest';
import { conjuncts, matches, ODataQueryError, parseCollectionQuery, parseFilter, parsePrefer, takeKeys, takeRange } from './query.js';

const PROPS = ['ID', 'OrderID', 'SKU', 'Amount', 'Status', 'PostingDate', 'Active', 'Note'];
const filter = (text: string) => parseFilter(text, PROPS);

describe('OData $filter', () => {
  it('parses comparisons, in, and/or/not with the precedence OData gives them', () => {
    expect(filter("SKU eq 'A-1'")).toEqual({ op: 'eq', property: 'SKU', value: { kind: 'string', value: 'A-1' } });
    expect(filter("ID in ('a','b', 'c')")).toEqual({ op: 'in', property: 'ID', values: ['a', 'b', 'c'].map((value) => ({ kind: 'string', value })) });
    // and binds tighter than or
    const e = filter("Status eq 'X' or Amount gt 5 and Amount le 10");
    expect(e.op).toBe('or');
    expect((e as any).right.op).toBe('and');
    expect(filter("not (Status eq 'X')")).toEqual({ op: 'not', expr: { op: 'eq', property: 'Status', value: { kind: 'string', value: 'X' } } });
  });

  it('reads literals: doubled quotes, numbers, booleans, null and dates', () => {
    expect((filter("Note eq 'O''Brien'") as any).value).toEqual({ kind: 'string', value: "O'Brien" });
    expect((filter('Amount ge -12.5') as any).value).toEqual({ kind: 'number', value: -12.5 });
    expect((filter('Active eq true') as any).value).toEqual({ kind: 'boolean', value: true });
    expect((filter('Note eq null') as any).value).toEqual({ kind: 'null' });
    expect((filter('PostingDate lt 2026-03-01T00:00:00.000Z') as any).value).toMatchObject({ kind: 'date', ms: Date.parse('2026-03-01T00:00:00.000Z') });
    expect((filter('PostingDate ge 2026-03-01') as any).value).toMatchObject({ kind: 'date', value: '2026-03-01' });
  });

  it('evaluates against records: dates as instants, mismatched types as false, ne null', () => {
    const record = { ID: 'p1', Amount: 7, Status: 'POSTED', PostingDate: '2026-02-10T12:00:00Z', Active: true, Note: null };
    expect(matches(record, filter("ID in ('p0','p1') and Amount gt 5"))).toBe(true);
    expect(matches(record, filter('PostingDate ge 2026-02-10T00:00:00Z and PostingDate lt 2026-02-11T00:00:00Z'))).toBe(true);
    expect(matches(record, filter('PostingDate lt 2026-02-10T12:00:00+01:00'))).toBe(false);
    expect(matches(record, filter("Amount eq '7'"))).toBe(false);
    expect(matches(record, filter("Status ne 'FAILED' or Amount lt 0"))).toBe(true);
    expect(matches(record, filter('Note eq null and not (Active eq false)'))).toBe(true);
  });

  it('refuses what it does not understand with a clear error', () => {
    expect(() => filter("Unknown eq 'x'")).toThrow(/unknown property Unknown/);
    expect(() => filter("SKU eq 'x")).toThrow(/unterminated/);
    expect(() => filter("SKU eq 'x' and")).toThrow(ODataQueryError);
    expect(() => filter("contains(SKU,'x')")).toThrow(ODataQueryError);
    expect(() => filter("SKU has 'x'")).toThrow(/not supported/);
    expect(() => filter('SKU in ()')).toThrow(/literal/);
    expect(() => filter('')).toThrow(/empty/);
  });

  it('finds the index a filter can use: keys from eq/in, a date range from ge/lt, the rest left to evaluate', () => {
    const parts = conjuncts(filter("OrderID in ('o1','o2') and Status eq 'POSTED'"));
    expect(takeKeys(parts, 'OrderID')).toEqual({ values: [{ kind: 'string', value: 'o1' }, { kind: 'string', value: 'o2' }], rest: [parts[1]] });
    expect(takeKeys(parts, 'ID')).toBeNull();
    const range = takeRange(conjuncts(filter('PostingDate ge 2026-01-01T00:00:00Z and PostingDate lt 2026-02-01T00:00:00Z')), 'PostingDate');
    expect(range?.rest).toEqual([]);
    expect(range?.from).toMatchObject({ kind: 'date', value: '2026-01-01T00:00:00Z' });
  });
});

describe('OData system query options and Prefer', () => {
  it('reads $select, $top, $skiptoken, $deltatoken and $count', () => {
    const q = parseCollectionQuery(new URLSearchParams({ $select: 'ID, Amount', $top: '5', $skiptoken: 'o10', $count: 'true', $filter: "ID eq 'x'" }), PROPS);
    expect(q).toMatchObject({ select: ['ID', 'Amount'], top: 5, skiptoken: 'o10', deltatoken: null, count: true });
    expect(q.filter).toMatchObject({ op: 'eq', property: 'ID' });
    expect(parseCollectionQuery(new URLSearchParams({ $select: '*' }), PROPS).select).toBeNull();
  });

  it('refuses unknown properties, bad numbers and options it does not implement', () => {
    expect(() => parseCollectionQuery(new URLSearchParams({ $select: 'Nope' }), PROPS)).toThrow(/unknown property Nope/);
    expect(() => parseCollectionQuery(new URLSearchParams({ $top: '-1' }), PROPS)).toThrow(/non-negative integer/);
    expect(() => parseCollectionQuery(new URLSearchParams({ $count: 'yes' }), PROPS)).toThrow(/\$count/);
    const expand = (() => {
      try {
        parseCollectionQuery(new URLSearchParams({ $expand: 'Lines' }), PROPS);
      } catch (error) {
        return error as ODataQueryError;
      }
      return null;
    })();
    expect(expand).toMatchObject({ status: 501, code: 'NotImplemented' });
  });

  it('reads the preferences it honours from Prefer', () => {
    expect(parsePrefer('odata.track-changes, odata.maxpagesize=250')).toEqual({ trackChanges: true, maxPageSize: 250 });
    expect(parsePrefer('return=minimal, maxpagesize=0')).toEqual({ trackChanges: false, maxPageSize: null });
    expect(parsePrefer(undefined)).toEqual({ trackChanges: false, maxPageSize: null });
  });
});
