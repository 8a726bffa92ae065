import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Supergraph } from '@apollo/federation-internals';
import {
  getNamedType,
  GraphQLEnumType,
  GraphQLInputObjectType,
  GraphQLInterfaceType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLScalarType,
  GraphQLUnionType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isUnionType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { withoutSecurityFeatures } from '../../../gateway/edge/security-features.js';
import { ROOT } from '../../../scripts/composition.js';
import type { Random } from './random.js';
import { fuzzString, oddString } from './strings.js';

/*
 * The corpus's schema half: operations generated from the API schema the gateway serves (the checked-in
 * supergraph, as the gateway's planner reads it), mostly well-formed, each with a few defects of the kinds a broken
 * or hostile client sends: wrong literal types, unknown fields and arguments, odd strings, deep selections, many
 * aliases, fragments and directives in odd places.
 */

/** The API schema clients see (join and link machinery removed, as the gateway's planner builds it). */
export function loadApiSchema(path = resolve(ROOT, 'supergraph.graphql')): GraphQLSchema {
  return Supergraph.build(withoutSecurityFeatures(readFileSync(path, 'utf8'))).apiSchema().toGraphQLJSSchema();
}

/** Ids and keys of the seeded demo data, so that a share of the generated arguments name things that exist. */
export const KNOWN = {
  products: ['prod-0001', 'prod-0042', 'prod-0500', 'prod-9999', 'UHJvZHVjdDpwcm9kLTAwMDE'],
  skus: ['SKU-0001-1', 'SKU-0001-2', 'SKU-0042-1', 'SKU-9999-9'],
  locations: ['store-001', 'store-003', 'store-020', 'wh-01', 'wh-05', 'store-999'],
  orders: ['ord-w000001', 'ord-w000002', 'ord-s000001', 'ord-w999999'],
  orderNumbers: ['W1000001', 'S1000001', 'W0000000'],
  customers: ['cust-00001', 'cust-00042', 'cust-99999'],
} as const;

const ALL_IDS = [...KNOWN.products, ...KNOWN.skus, ...KNOWN.locations, ...KNOWN.orders, ...KNOWN.customers];

/** A value for an input type, as a JSON variable: right (`valid`) or, with probability `wrongness`, wrong somewhere. */
export function inputValue(type: GraphQLInputType, random: Random, wrongness: number, depth = 0): unknown {
  if (random.chance(wrongness)) return wrongValue(type, random, depth);
  if (type instanceof GraphQLNonNull) return inputValue(type.ofType, random, wrongness, depth);
  if (type instanceof GraphQLList) {
    const n = random.weighted([[6, random.int(0, 3)], [1, random.int(50, 150)]]);
    return Array.from({ length: n }, () => inputValue(type.ofType, random, wrongness, depth + 1));
  }
  if (type instanceof GraphQLEnumType) return random.pick(type.getValues()).name;
  if (type instanceof GraphQLInputObjectType) {
    const value: Record<string, unknown> = {};
    for (const field of Object.values(type.getFields())) {
      const required = field.type instanceof GraphQLNonNull && field.defaultValue === undefined;
      if (required || random.chance(0.5)) value[field.name] = inputValue(field.type, random, wrongness, depth + 1);
    }
    return value;
  }
  return scalarValue(type as GraphQLScalarType, random, depth);
}

function scalarValue(type: GraphQLScalarType, random: Random, depth = 0): unknown {
  switch (type.name) {
    case 'Int':
      return random.weighted([[6, random.int(0, 20)], [2, random.int(-5, 200)], [1, 2 ** 31 - 1], [1, random.int(100_000, 2_000_000)]]);
    case 'Float':
      return random.next() * 1000;
    case 'Boolean':
      return random.chance(0.5);
    case 'ID':
      return random.chance(0.8) ? random.pick(ALL_IDS) : oddString(random);
    case 'DateTime':
      return random.pick(['2024-01-01T00:00:00.000Z', '2026-12-31T23:59:59Z', 'not a date', '0000-00-00T00:00:00Z', '2024-02-30T00:00:00Z']);
    default:
      if (random.chance(0.6)) return random.pick([...ALL_IDS, 'shirt', 'a', '']);
      // Huge strings at the top only: a list of a hundred megabyte strings is an oversized body, a category of its own.
      return depth === 0 ? fuzzString(random) : oddString(random);
  }
}

/** Something the type does not accept: another kind of value, null for a non-null, a field missing or unknown. */
export function wrongValue(type: GraphQLInputType, random: Random, depth = 0): unknown {
  const named = getNamedType(type);
  const anything = (): unknown => anyValue(random, depth);
  if (isInputObjectType(named) && random.chance(0.5)) {
    const value = inputValue(named, random, 0, depth + 1) as Record<string, unknown>;
    const fields = Object.keys(named.getFields());
    return random.weighted<() => unknown>([
      [2, () => ({ ...value, [`${random.pick(['x', 'extra', '__typename', 'constructor', '__proto__'])}`]: anything() })],
      [2, () => Object.fromEntries(Object.entries(value).filter(([k]) => k !== random.pick(fields)))],
      [2, () => ({ ...value, [random.pick(fields)]: anything() })],
      [1, () => [value]],
    ])();
  }
  return anything();
}

/** A JSON value of any kind, mostly of a kind no field wants: odd strings, edge numbers, null, nesting, prototype keys. */
export function anyValue(random: Random, depth = 0): unknown {
  return random.weighted<() => unknown>([
    [3, () => oddString(random)],
    [2, () => random.int(-1e9, 1e9)],
    [1, () => 1.5],
    [1, () => 2 ** 53 + 1],
    [1, () => -0],
    [1, () => 1e308],
    [2, () => null],
    [1, () => true],
    [1, () => []],
    [1, () => ({})],
    [1, () => JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}') as unknown],
    [1, () => deepJson(random, random.int(10, depth > 2 ? 50 : 3000))],
    [1, () => [[[[['x']]]]]],
  ])();
}

/** JSON nested `depth` deep (objects and arrays), the shape a recursive parser chokes on. */
export function deepJson(random: Random, depth: number): unknown {
  let value: unknown = random.pick(['x', 1, null]);
  for (let i = 0; i < depth; i++) value = random.chance(0.5) ? [value] : { a: value };
  return value;
}

/** A GraphQL literal for an input type, printed; with probability `wrongness` of the wrong kind. */
export function literal(type: GraphQLInputType, random: Random, wrongness: number, depth = 0): string {
  if (depth > 6) return 'null';
  if (random.chance(wrongness)) {
    return random.pick(['"x"', '1', '1.5', 'true', 'null', 'FOO', '[]', '{}', '$undeclared', `"${'\\u'}d800"`, '"\\x"', '99999999999999999999', `"${oddString(random).replace(/["\\\n\r]/g, '')}"`]);
  }
  if (type instanceof GraphQLNonNull) return literal(type.ofType, random, wrongness, depth);
  if (type instanceof GraphQLList) return `[${Array.from({ length: random.int(0, 3) }, () => literal(type.ofType, random, wrongness, depth + 1)).join(', ')}]`;
  if (type instanceof GraphQLEnumType) return random.pick(type.getValues()).name;
  if (type instanceof GraphQLInputObjectType) {
    const fields = Object.values(type.getFields()).filter((f) => (f.type instanceof GraphQLNonNull && f.defaultValue === undefined) || random.chance(0.4));
    return `{ ${fields.map((f) => `${f.name}: ${literal(f.type, random, wrongness, depth + 1)}`).join(', ')} }`;
  }
  const value = scalarValue(type as GraphQLScalarType, random);
  // JSON's escapes are GraphQL's, lone surrogates aside (which graphql-js refuses: a case in itself).
  return typeof value === 'string' ? JSON.stringify(value.length > 2000 ? value.slice(0, 2000) : value) : String(value);
}

export interface GeneratedOperation {
  query: string;
  variables: Record<string, unknown>;
  /** Whether the generator put a defect in it on purpose (the gateway may still answer it, partly). */
  defective: boolean;
}

interface Budget {
  fields: number;
  defective: boolean;
}

/**
 * A random operation over the API schema: a query root (sometimes a subscription, which HTTP refuses), its fields
 * with arguments (as literals or variables), selections down to `maxDepth`.
 */
export function randomOperation(schema: GraphQLSchema, random: Random, options: { maxDepth: number; wrongness: number }): GeneratedOperation {
  const root = random.chance(0.9) ? schema.getQueryType() : (schema.getSubscriptionType() ?? schema.getQueryType());
  if (!root) throw new Error('the schema has no query type');
  const budget: Budget = { fields: 0, defective: false };
  const variables: Record<string, unknown> = {};
  const definitions: string[] = [];
  const rootFields = Object.values(root.getFields());
  const count = random.weighted([[8, 1], [3, 2], [1, random.int(3, 6)]]);
  const selections: string[] = [];
  for (let i = 0; i < count; i++) {
    const field = random.pick(rootFields);
    const alias = i > 0 || random.chance(0.2) ? `a${i}: ` : '';
    selections.push(`${alias}${fieldSelection(field, schema, random, options, budget, variables, definitions, 1)}`);
  }
  if (random.chance(0.05)) {
    budget.defective = true;
    selections.push(random.pick(['nope', '__schema { types { name } }', 'product', '__type(name: "Order") { name fields { name } }', `x${random.int(0, 9)}: __typename @skip(if: "yes")`]));
  }
  const keyword = root === schema.getSubscriptionType() ? 'subscription' : 'query';
  const header = definitions.length ? `(${definitions.join(', ')})` : '';
  return { query: `${keyword} Fuzz${header} { ${selections.join(' ')} }`, variables, defective: budget.defective };
}

function fieldSelection(
  field: GraphQLField<unknown, unknown>,
  schema: GraphQLSchema,
  random: Random,
  options: { maxDepth: number; wrongness: number },
  budget: Budget,
  variables: Record<string, unknown>,
  definitions: string[],
  depth: number,
): string {
  budget.fields++;
  const args = field.args.filter((a) => (a.type instanceof GraphQLNonNull && a.defaultValue === undefined) || random.chance(0.3));
  const printed = args.map((arg) => `${arg.name}: ${argumentValue(arg, random, options, budget, variables, definitions)}`);
  if (random.chance(0.02)) {
    budget.defective = true;
    printed.push(`${random.pick(['nope', 'first', 'id'])}: 1`);
  }
  const argText = printed.length ? `(${printed.join(', ')})` : '';
  const sub = selectionSet(field.type, schema, random, options, budget, variables, definitions, depth);
  return `${field.name}${argText}${sub}`;
}

function argumentValue(arg: GraphQLArgument, random: Random, options: { wrongness: number }, budget: Budget, variables: Record<string, unknown>, definitions: string[]): string {
  if (random.chance(0.5)) {
    const name = `v${definitions.length}`;
    definitions.push(`$${name}: ${String(arg.type)}`);
    const value = inputValue(arg.type, random, options.wrongness);
    if (random.chance(0.05)) budget.defective = true;
    else variables[name] = arg.name === 'first' && typeof value === 'number' ? Math.min(value, 5) : value;
    return `$${name}`;
  }
  const text = arg.name === 'first' && random.chance(0.8) ? String(random.int(0, 5)) : literal(arg.type, random, options.wrongness);
  return text;
}

function selectionSet(
  type: GraphQLOutputType,
  schema: GraphQLSchema,
  random: Random,
  options: { maxDepth: number; wrongness: number },
  budget: Budget,
  variables: Record<string, unknown>,
  definitions: string[],
  depth: number,
): string {
  const named = getNamedType(type);
  if (!(isObjectType(named) || isInterfaceType(named) || isUnionType(named))) {
    if (random.chance(0.01)) {
      budget.defective = true;
      return ' { id }';
    }
    return '';
  }
  if (depth >= options.maxDepth || budget.fields > 60) return ' { __typename }';
  const parts: string[] = [];
  if (isUnionType(named) || (isInterfaceType(named) && random.chance(0.5))) {
    const possible = schema.getPossibleTypes(named as GraphQLInterfaceType | GraphQLUnionType);
    const concrete = random.pick(possible);
    parts.push(`__typename ... on ${concrete.name}${selectionSet(concrete, schema, random, options, budget, variables, definitions, depth + 1)}`);
  }
  if (!isUnionType(named)) {
    const fields = Object.values((named as GraphQLObjectType | GraphQLInterfaceType).getFields());
    const n = random.weighted([[5, 1], [4, 2], [2, 3], [1, 5]]);
    for (let i = 0; i < n; i++) {
      const field = random.pick(fields);
      const alias = random.chance(0.1) ? `f${i}: ` : '';
      const directive = random.chance(0.05) ? random.pick([' @include(if: true)', ' @skip(if: false)', ' @skip(if: true)', ' @deprecated', ' @include(if: $nope)']) : '';
      parts.push(`${alias}${fieldSelection(field, schema, random, options, budget, variables, definitions, depth + 1)}${directive}`);
    }
  }
  if (parts.length === 0) parts.push('__typename');
  return ` { ${parts.join(' ')} }`;
}
