import {
  getDirectiveValues,
  getNamedType,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isAbstractType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  print,
  visit,
  type DocumentNode,
  type ExecutionResult,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { getArgumentValues } from 'graphql/execution/values.js';
import { evaluate, type PolicyRegistry, type Requirement, type RequirementMap, type Verdict } from '../../common/auth/authorization.js';
import { POLICIES } from '../../common/auth/policies.js';
import type { Principal } from '../../common/auth/principal.js';

/*
 * The gateway's half of "who may see what", done before any subgraph is asked: the operation is checked against
 * the authorization directives composed into the supergraph (`@authenticated`, `@requiresScopes`, `@policy`),
 * every field the caller may not have is removed from the document that is planned and executed, and the response
 * gets each removed field back as `null` with an error located at it (UNAUTHENTICATED or FORBIDDEN), the rest of
 * the response untouched. A removed non-null field nulls its nearest nullable parent, as GraphQL's own error
 * propagation would. So a subgraph never even hears of a field its caller may not have, and a document whose every
 * root field is refused is answered without any fetch.
 *
 * What this cannot decide (whose order, which store) the owning subgraph decides; see common/auth/enforce.ts for
 * the same directives enforced there.
 */

/** The alias put where fields were removed: it tells, in the response, where the removed fields would have been. */
export const PLACEHOLDER = '_authzPlaceholder';

/** Where in a response a guarded field sits: the response keys from the root, and each key's field type. */
interface Step {
  key: string;
  type: GraphQLOutputType;
}

/** One guarded field of the document, at one place it is selected (a fragment spread twice is two sites). */
interface Site {
  node: FieldNode;
  /** `Type.field`, for messages. */
  label: string;
  requirement: Requirement;
  /** Steps to the object that holds the field. */
  parents: Step[];
  key: string;
  type: GraphQLOutputType;
  /** The field definition's arguments, for policies. */
  fieldDef: Parameters<typeof getArgumentValues>[0];
}

interface Analysis {
  operation: OperationDefinitionNode;
  sites: Site[];
}

export type AuthorizationOutcome =
  /** Nothing refused: run the document as it is. */
  | { kind: 'allowed' }
  /** Some fields refused: run `document` instead, then `patch` the result. */
  | { kind: 'filtered'; document: DocumentNode; query: string; patch: (result: ExecutionResult) => ExecutionResult }
  /** Every root field refused: this is the whole answer, nothing is executed. */
  | { kind: 'refused'; result: ExecutionResult };

export interface OperationAuthorizerOptions {
  /** The API schema the documents are validated against. */
  schema: GraphQLSchema;
  /** The supergraph's field requirements (`requirementsOfDocument(parse(supergraphSdl))`). */
  requirements: RequirementMap;
  /** @default POLICIES (common/auth/policies.ts) */
  policies?: PolicyRegistry | undefined;
  /** Analysed documents kept, by text. @default 1000 */
  cacheSize?: number | undefined;
}

export class OperationAuthorizer {
  private readonly schema: GraphQLSchema;
  private readonly requirements: RequirementMap;
  private readonly policies: PolicyRegistry;
  private readonly cacheSize: number;
  private readonly analyses = new Map<string, Analysis>();

  constructor(options: OperationAuthorizerOptions) {
    this.schema = options.schema;
    this.requirements = options.requirements;
    this.policies = options.policies ?? POLICIES;
    this.cacheSize = options.cacheSize ?? 1000;
  }

  /**
   * Decide a validated document for a caller. `key` names the document (its text and operation name) for the
   * analysis cache; `variables` must be the coerced variable values (policies read arguments through them).
   */
  authorize(key: string, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>, principal: Principal): AuthorizationOutcome {
    const analysis = this.analyse(key, document, operation);
    if (analysis.sites.length === 0) return { kind: 'allowed' };
    const denied = new Map<FieldNode, Extract<Verdict, { kind: 'deny' }>>();
    for (const site of analysis.sites) {
      if (denied.has(site.node) || !included(site.node, variables)) continue;
      const args = site.requirement.policies.length ? getArgumentValues(site.fieldDef, site.node, variables) : {};
      const verdict = evaluate(site.requirement, principal, args, this.policies, site.label);
      if (verdict.kind === 'deny') denied.set(site.node, verdict);
    }
    if (denied.size === 0) return { kind: 'allowed' };
    const filtered = dropUnusedVariables(removeFields(document, denied));
    const deniedSites = analysis.sites.filter((s) => denied.has(s.node));
    const patch = (result: ExecutionResult): ExecutionResult => patchResult(result, deniedSites, denied);
    const root = filtered.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && d.name?.value === operation.name?.value && d.operation === operation.operation);
    const onlyPlaceholder = root?.selectionSet.selections.every((s) => s.kind === Kind.FIELD && s.alias?.value === PLACEHOLDER) ?? false;
    if (onlyPlaceholder) {
      const rootType = this.schema.getRootType(operation.operation);
      return { kind: 'refused', result: patch({ data: { [PLACEHOLDER]: rootType?.name ?? 'Query' } }) };
    }
    return { kind: 'filtered', document: filtered, query: print(filtered), patch };
  }

  private analyse(key: string, document: DocumentNode, operation: OperationDefinitionNode): Analysis {
    const cached = this.analyses.get(key);
    if (cached) return cached;
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    const sites: Site[] = [];
    const rootType = this.schema.getRootType(operation.operation);
    if (rootType) this.collect(operation.selectionSet, rootType, [], fragments, sites, new Set());
    const analysis = { operation, sites };
    if (this.analyses.size >= this.cacheSize) this.analyses.delete(this.analyses.keys().next().value as string);
    this.analyses.set(key, analysis);
    return analysis;
  }

  private collect(selectionSet: SelectionSetNode, parentType: GraphQLCompositeType, parents: Step[], fragments: Map<string, FragmentDefinitionNode>, sites: Site[], spreading: Set<string>): void {
    for (const selection of selectionSet.selections) {
      switch (selection.kind) {
        case Kind.FIELD: {
          const name = selection.name.value;
          if (name.startsWith('__') || !('getFields' in parentType)) break;
          const fieldDef = parentType.getFields()[name];
          if (!fieldDef) break;
          const key = selection.alias?.value ?? name;
          // Requirements are stated on object types' fields; a field selected on an interface is checked on
          // each object type that may answer it.
          const owners = isObjectType(parentType) ? [parentType] : isAbstractType(parentType) ? this.schema.getPossibleTypes(parentType) : [];
          for (const owner of owners) {
            const label = `${owner.name}.${name}`;
            const requirement = this.requirements.get(label);
            if (requirement) sites.push({ node: selection, label, requirement, parents, key, type: fieldDef.type, fieldDef });
          }
          const named = getNamedType(fieldDef.type);
          if (selection.selectionSet && 'getFields' in named) this.collect(selection.selectionSet, named as GraphQLCompositeType, [...parents, { key, type: fieldDef.type }], fragments, sites, spreading);
          else if (selection.selectionSet && isAbstractType(named)) this.collect(selection.selectionSet, named, [...parents, { key, type: fieldDef.type }], fragments, sites, spreading);
          break;
        }
        case Kind.INLINE_FRAGMENT: {
          const condition = selection.typeCondition ? this.schema.getType(selection.typeCondition.name.value) : parentType;
          if (condition && (isObjectType(condition) || isAbstractType(condition))) this.collect(selection.selectionSet, condition, parents, fragments, sites, spreading);
          break;
        }
        case Kind.FRAGMENT_SPREAD: {
          const name = selection.name.value;
          const fragment = fragments.get(name);
          // Validation refuses cycles; the guard only keeps a broken document from looping here.
          if (!fragment || spreading.has(name)) break;
          const condition = this.schema.getType(fragment.typeCondition.name.value);
          if (!condition || !(isObjectType(condition) || isAbstractType(condition))) break;
          spreading.add(name);
          this.collect(fragment.selectionSet, condition, parents, fragments, sites, spreading);
          spreading.delete(name);
          break;
        }
        default:
          break;
      }
    }
  }
}

/** Whether @skip/@include leave the field in (a skipped field is not refused: it was never going to be there). */
function included(node: FieldNode, variables: Record<string, unknown>): boolean {
  if (!node.directives?.length) return true;
  if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
  if (getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if === false) return false;
  return true;
}

const placeholderField: FieldNode = {
  kind: Kind.FIELD,
  alias: { kind: Kind.NAME, value: PLACEHOLDER },
  name: { kind: Kind.NAME, value: '__typename' },
};

/**
 * The document without the denied fields. Every selection set that lost a field gets the placeholder, so that the
 * response shows where (and, under type conditions, whether) the removed fields would have been.
 */
function removeFields(document: DocumentNode, denied: ReadonlyMap<FieldNode, unknown>): DocumentNode {
  // Decided on the way in, where the nodes are still the originals the map holds (on the way out a field whose
  // children changed is a new object).
  const lost: boolean[] = [];
  return visit(document, {
    Field: {
      enter(node) {
        return denied.has(node) ? null : undefined;
      },
    },
    SelectionSet: {
      enter(node) {
        lost.push(node.selections.some((s) => s.kind === Kind.FIELD && denied.has(s)));
      },
      leave(node) {
        if (!lost.pop()) return undefined;
        return { ...node, selections: [...node.selections, placeholderField] };
      },
    },
  });
}

type Json = null | string | number | boolean | Json[] | { [key: string]: Json };

/** Put each removed field back as null with its located error; null what a removed non-null field takes with it. */
function patchResult(result: ExecutionResult, sites: readonly Site[], verdicts: ReadonlyMap<FieldNode, Extract<Verdict, { kind: 'deny' }>>): ExecutionResult {
  const errors: GraphQLError[] = [];
  let data = (result.data ?? null) as { [key: string]: Json } | null;
  const applied = new WeakSet<object>();
  if (data) {
    for (const site of sites) {
      const verdict = verdicts.get(site.node);
      if (!verdict) continue;
      if (patchObject(data, site, 0, [], verdict, errors, applied) === 'bubble') {
        data = null;
        break;
      }
    }
    if (data) stripPlaceholders(data);
  }
  const existing = (result.errors ?? []) as readonly (GraphQLError | GraphQLFormattedError)[];
  return { ...result, data, errors: [...existing, ...errors] as GraphQLError[] };
}

/**
 * Variables the filtered operation no longer uses (they fed only removed fields) are dropped from its definitions:
 * GraphQL refuses a document that defines a variable it never uses.
 */
function dropUnusedVariables(document: DocumentNode): DocumentNode {
  const used = new Set<string>();
  visit(document, {
    VariableDefinition: () => false,
    Variable(node) {
      used.add(node.name.value);
    },
  });
  return visit(document, {
    VariableDefinition(node) {
      return used.has(node.variable.name.value) ? undefined : null;
    },
  });
}

type Outcome = 'ok' | 'bubble';

function patchObject(object: { [key: string]: Json }, site: Site, depth: number, path: (string | number)[], verdict: Extract<Verdict, { kind: 'deny' }>, errors: GraphQLError[], applied: WeakSet<object>): Outcome {
  if (depth === site.parents.length) {
    // The placeholder is there exactly where the selection set that held the field applied to this object.
    if (!(PLACEHOLDER in object) && !applied.has(object)) return 'ok';
    applied.add(object);
    errors.push(new GraphQLError(verdict.message, { path: [...path, site.key], extensions: { code: verdict.code } }));
    if (isNonNullType(site.type)) return 'bubble';
    object[site.key] = null;
    return 'ok';
  }
  const step = site.parents[depth] as Step;
  const child = object[step.key];
  if (child === undefined || child === null) return 'ok';
  const outcome = patchValue(child, step.type, site, depth + 1, [...path, step.key], verdict, errors, applied, (value) => {
    object[step.key] = value;
  });
  return outcome;
}

/** Walk a value of `type` (lists included) down to the objects at `depth`, nulling what must bubble. */
function patchValue(
  value: Json,
  type: GraphQLOutputType,
  site: Site,
  depth: number,
  path: (string | number)[],
  verdict: Extract<Verdict, { kind: 'deny' }>,
  errors: GraphQLError[],
  applied: WeakSet<object>,
  set: (value: Json) => void,
): Outcome {
  const nonNull = isNonNullType(type);
  const inner = nonNull ? type.ofType : type;
  if (value === null) return 'ok';
  let outcome: Outcome = 'ok';
  if (isListType(inner)) {
    if (!Array.isArray(value)) return 'ok';
    for (let i = 0; i < value.length; i++) {
      const item = value[i] as Json;
      const itemOutcome = patchValue(item, inner.ofType, site, depth, [...path, i], verdict, errors, applied, (v) => {
        value[i] = v;
      });
      if (itemOutcome === 'bubble') {
        outcome = 'bubble';
        break;
      }
    }
  } else if (typeof value === 'object' && !Array.isArray(value)) {
    outcome = patchObject(value, site, depth, path, verdict, errors, applied);
  }
  if (outcome === 'bubble') {
    if (nonNull) return 'bubble';
    set(null);
  }
  return 'ok';
}

function stripPlaceholders(value: Json): void {
  if (Array.isArray(value)) {
    for (const item of value) stripPlaceholders(item);
  } else if (value && typeof value === 'object') {
    delete value[PLACEHOLDER];
    for (const child of Object.values(value)) if (child && typeof child === 'object') stripPlaceholders(child);
  }
}
