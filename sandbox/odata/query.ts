/*
 * The part of OData v4's URL conventions the sandbox ERP's service understands: `$filter` (comparisons `eq ne gt
 * ge lt le`, `in (...)`, `and`, `or`, `not`, parentheses; string, number, boolean, null and date/time literals),
 * `$select`, `$top`, `$skiptoken`, `$count`, `$deltatoken`, and the `Prefer` header's `odata.track-changes` and
 * `odata.maxpagesize`. Anything else is refused with a clear error rather than ignored, so a client never reads a
 * result it did not ask for.
 */

export type Literal = { kind: 'string'; value: string } | { kind: 'number'; value: number } | { kind: 'boolean'; value: boolean } | { kind: 'null' } | { kind: 'date'; value: string; ms: number };

export type Comparison = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

export type FilterExpr =
  | { op: 'and' | 'or'; left: FilterExpr; right: FilterExpr }
  | { op: 'not'; expr: FilterExpr }
  | { op: Comparison; property: string; value: Literal }
  | { op: 'in'; property: string; values: Literal[] };

/** A request the service cannot answer as asked: becomes a 400 (or 501 for what it does not implement) in OData's error format. */
export class ODataQueryError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 501 = 400,
    readonly code = 'BadRequest',
  ) {
    super(message);
  }
}

type Token = { type: 'punct'; value: '(' | ')' | ',' } | { type: 'word'; value: string } | { type: 'literal'; value: Literal };

const DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?/;
const NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/;
const WORD = /^[A-Za-z_][A-Za-z0-9_]*/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const ch = rest[0]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ type: 'punct', value: ch });
      i++;
      continue;
    }
    if (ch === "'") {
      // A quote inside a string literal is doubled ('O''Brien').
      let value = '';
      let j = 1;
      for (;;) {
        if (j >= rest.length) throw new ODataQueryError(`$filter: unterminated string literal at position ${i}`);
        if (rest[j] === "'") {
          if (rest[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += rest[j];
        j++;
      }
      tokens.push({ type: 'literal', value: { kind: 'string', value } });
      i += j + 1;
      continue;
    }
    const date = DATE.exec(rest);
    if (date && date[0].length > 4) {
      const ms = Date.parse(date[0]);
      if (!Number.isFinite(ms)) throw new ODataQueryError(`$filter: ${date[0]} is not a valid date`);
      tokens.push({ type: 'literal', value: { kind: 'date', value: date[0], ms } });
      i += date[0].length;
      continue;
    }
    const number = NUMBER.exec(rest);
    if (number) {
      tokens.push({ type: 'literal', value: { kind: 'number', value: Number(number[0]) } });
      i += number[0].length;
      continue;
    }
    const word = WORD.exec(rest);
    if (word) {
      const w = word[0];
      if (w === 'true' || w === 'false') tokens.push({ type: 'literal', value: { kind: 'boolean', value: w === 'true' } });
      else if (w === 'null') tokens.push({ type: 'literal', value: { kind: 'null' } });
      else tokens.push({ type: 'word', value: w });
      i += w.length;
      continue;
    }
    throw new ODataQueryError(`$filter: unexpected ${JSON.stringify(ch)} at position ${i}`);
  }
  return tokens;
}

const COMPARISONS: readonly string[] = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'];

/** Parse a `$filter` expression; `properties` are the entity type's, any other name is a 400. */
export function parseFilter(text: string, properties: readonly string[]): FilterExpr {
  const tokens = tokenize(text);
  let at = 0;
  const peek = () => tokens[at];
  const isWord = (value: string) => {
    const t = peek();
    return t?.type === 'word' && t.value === value;
  };
  const expectPunct = (value: '(' | ')' | ',') => {
    const t = tokens[at++];
    if (t?.type !== 'punct' || t.value !== value) throw new ODataQueryError(`$filter: expected "${value}"`);
  };
  const literal = (): Literal => {
    const t = tokens[at++];
    if (t?.type !== 'literal') throw new ODataQueryError('$filter: expected a literal value');
    return t.value;
  };

  const or = (): FilterExpr => {
    let left = and();
    while (isWord('or')) {
      at++;
      left = { op: 'or', left, right: and() };
    }
    return left;
  };
  const and = (): FilterExpr => {
    let left = not();
    while (isWord('and')) {
      at++;
      left = { op: 'and', left, right: not() };
    }
    return left;
  };
  const not = (): FilterExpr => {
    if (isWord('not')) {
      at++;
      return { op: 'not', expr: not() };
    }
    return comparison();
  };
  const comparison = (): FilterExpr => {
    const t = tokens[at++];
    if (t?.type === 'punct' && t.value === '(') {
      const inner = or();
      expectPunct(')');
      return inner;
    }
    if (t?.type !== 'word') throw new ODataQueryError('$filter: expected a property name');
    if (!properties.includes(t.value)) throw new ODataQueryError(`$filter: unknown property ${t.value} (known: ${properties.join(', ')})`);
    const operator = tokens[at++];
    if (operator?.type !== 'word') throw new ODataQueryError(`$filter: expected an operator after ${t.value}`);
    if (operator.value === 'in') {
      expectPunct('(');
      const values = [literal()];
      while (peek()?.type === 'punct' && (peek() as { value: string }).value === ',') {
        at++;
        values.push(literal());
      }
      expectPunct(')');
      return { op: 'in', property: t.value, values };
    }
    if (!COMPARISONS.includes(operator.value)) throw new ODataQueryError(`$filter: operator ${operator.value} is not supported (supported: ${COMPARISONS.join(', ')}, in, and, or, not)`, 501, 'NotImplemented');
    return { op: operator.value as Comparison, property: t.value, value: literal() };
  };

  if (!tokens.length) throw new ODataQueryError('$filter is empty');
  const expr = or();
  if (at < tokens.length) throw new ODataQueryError('$filter: unexpected text after the expression');
  return expr;
}

function compare(actual: unknown, literal: Literal): number | null {
  switch (literal.kind) {
    case 'null':
      return actual === null || actual === undefined ? 0 : null;
    case 'date': {
      const ms = typeof actual === 'string' ? Date.parse(actual) : Number.NaN;
      return Number.isFinite(ms) ? Math.sign(ms - literal.ms) : null;
    }
    case 'number':
      return typeof actual === 'number' ? Math.sign(actual - literal.value) : null;
    case 'string':
      return typeof actual === 'string' ? (actual < literal.value ? -1 : actual > literal.value ? 1 : 0) : null;
    case 'boolean':
      return typeof actual === 'boolean' ? (actual === literal.value ? 0 : null) : null;
  }
}

/** Whether `record` satisfies `expr` (a comparison of mismatched types is false, as is any comparison with null but eq/ne). */
export function matches(record: Record<string, unknown>, expr: FilterExpr): boolean {
  switch (expr.op) {
    case 'and':
      return matches(record, expr.left) && matches(record, expr.right);
    case 'or':
      return matches(record, expr.left) || matches(record, expr.right);
    case 'not':
      return !matches(record, expr.expr);
    case 'in':
      return expr.values.some((value) => compare(record[expr.property], value) === 0);
    default: {
      const c = compare(record[expr.property], expr.value);
      if (expr.op === 'ne') return c !== 0;
      if (c === null) return false;
      return { eq: c === 0, gt: c > 0, ge: c >= 0, lt: c < 0, le: c <= 0 }[expr.op];
    }
  }
}

/** The top-level `and` conjuncts of a filter (the whole filter when it is not an `and`). */
export function conjuncts(expr: FilterExpr): FilterExpr[] {
  return expr.op === 'and' ? [...conjuncts(expr.left), ...conjuncts(expr.right)] : [expr];
}

/** Rebuild a filter from conjuncts; null for none. */
export function conjoin(parts: readonly FilterExpr[]): FilterExpr | null {
  return parts.reduce<FilterExpr | null>((acc, part) => (acc ? { op: 'and', left: acc, right: part } : part), null);
}

/** The values an `eq` or `in` conjunct on `property` allows, and the conjuncts left, or null when there is none. */
export function takeKeys(parts: readonly FilterExpr[], property: string): { values: Literal[]; rest: FilterExpr[] } | null {
  const index = parts.findIndex((p) => (p.op === 'eq' || p.op === 'in') && p.property === property);
  if (index < 0) return null;
  const part = parts[index]!;
  const values = part.op === 'in' ? part.values : part.op === 'eq' ? [part.value] : [];
  return { values, rest: parts.filter((_, i) => i !== index) };
}

/** A `ge`/`gt` lower and `lt`/`le` upper bound on `property` (dates), and the conjuncts left, or null without both. */
export function takeRange(parts: readonly FilterExpr[], property: string): { from: Literal; to: Literal; rest: FilterExpr[] } | null {
  const lower = parts.findIndex((p) => p.op === 'ge' && p.property === property);
  const upper = parts.findIndex((p) => p.op === 'lt' && p.property === property);
  if (lower < 0 || upper < 0) return null;
  const from = (parts[lower] as { value: Literal }).value;
  const to = (parts[upper] as { value: Literal }).value;
  return { from, to, rest: parts.filter((_, i) => i !== lower && i !== upper) };
}

/** Whether the filter names `property` anywhere. */
export function mentions(expr: FilterExpr, property: string): boolean {
  switch (expr.op) {
    case 'and':
    case 'or':
      return mentions(expr.left, property) || mentions(expr.right, property);
    case 'not':
      return mentions(expr.expr, property);
    default:
      return expr.property === property;
  }
}

export interface CollectionQuery {
  filter: FilterExpr | null;
  select: string[] | null;
  top: number | null;
  skiptoken: string | null;
  deltatoken: string | null;
  count: boolean;
}

const SUPPORTED_OPTIONS = new Set(['$filter', '$select', '$top', '$skiptoken', '$deltatoken', '$count', '$format']);

/** Read a collection request's system query options against the entity type's `properties`. */
export function parseCollectionQuery(params: URLSearchParams, properties: readonly string[]): CollectionQuery {
  for (const name of params.keys()) {
    if (name.startsWith('$') && !SUPPORTED_OPTIONS.has(name)) throw new ODataQueryError(`${name} is not supported by this service`, 501, 'NotImplemented');
  }
  const format = params.get('$format');
  if (format !== null && format !== 'json' && !format.startsWith('application/json')) throw new ODataQueryError(`$format ${format}: only json`, 501, 'NotImplemented');
  const filterText = params.get('$filter');
  const selectText = params.get('$select');
  let select: string[] | null = null;
  if (selectText !== null) {
    select = selectText
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = select.filter((s) => s !== '*' && !properties.includes(s));
    if (unknown.length) throw new ODataQueryError(`$select: unknown property ${unknown.join(', ')}`);
    if (select.includes('*')) select = null;
  }
  const topText = params.get('$top');
  let top: number | null = null;
  if (topText !== null) {
    top = Number(topText);
    if (!/^\d+$/.test(topText) || !Number.isSafeInteger(top)) throw new ODataQueryError(`$top must be a non-negative integer, got ${JSON.stringify(topText)}`);
  }
  const countText = params.get('$count');
  if (countText !== null && countText !== 'true' && countText !== 'false') throw new ODataQueryError('$count must be true or false');
  return {
    filter: filterText === null ? null : parseFilter(filterText, properties),
    select,
    top,
    skiptoken: params.get('$skiptoken'),
    deltatoken: params.get('$deltatoken'),
    count: countText === 'true',
  };
}

export interface Preferences {
  trackChanges: boolean;
  maxPageSize: number | null;
}

/** The `Prefer` header's preferences this service honours (others are ignored, as the protocol allows). */
export function parsePrefer(header: string | undefined): Preferences {
  const prefs: Preferences = { trackChanges: false, maxPageSize: null };
  for (const part of (header ?? '').split(',')) {
    const [rawName, rawValue] = part.split('=').map((s) => s.trim());
    const name = (rawName ?? '').toLowerCase();
    if (name === 'odata.track-changes' || name === 'track-changes') prefs.trackChanges = true;
    if ((name === 'odata.maxpagesize' || name === 'maxpagesize') && rawValue && /^\d+$/.test(rawValue) && Number(rawValue) > 0) prefs.maxPageSize = Number(rawValue);
  }
  return prefs;
}

/** Keep only the selected properties (all without $select). */
export function project(entity: Record<string, unknown>, select: readonly string[] | null, keep: readonly string[] = []): Record<string, unknown> {
  if (!select) return entity;
  const out: Record<string, unknown> = {};
  for (const name of [...keep, ...select]) if (name in entity) out[name] = entity[name];
  return out;
}
