import { GraphQLError, valueFromASTUntyped, type ConstDirectiveNode, type DocumentNode, type GraphQLSchema } from 'graphql';
import { assertNever, scopesOf, type Principal } from './principal.js';

/*
 * The federation authorization directives, read once from a schema and evaluated per call. The same code decides
 * at the gateway (from the composed supergraph, before any subgraph fetch) and in every subgraph (from its own
 * SDL, for callers that reach its port directly), so the two depths cannot disagree.
 *
 * - `@authenticated`: any signed-in caller.
 * - `@requiresScopes(scopes: [[...]])`: one inner list (OR) whose scopes the caller holds all of (AND).
 * - `@policy(policies: [[...]])`: the same shape over named policies (see policies.ts). A policy here sees the
 *   field's arguments, so "a store associate only at their own location" is decided before anything is fetched.
 *
 * Any of them refuses an anonymous caller with UNAUTHENTICATED; a signed-in caller who fails them gets FORBIDDEN.
 */

export interface Requirement {
  authenticated: boolean;
  /** Alternatives of scope sets; empty when the field names none. */
  scopes: readonly (readonly string[])[];
  /** Alternatives of policy sets; empty when the field names none. */
  policies: readonly (readonly string[])[];
}

/** A policy: whether this caller may have this field with these (coerced) arguments. */
export type Policy = (principal: Principal, args: Readonly<Record<string, unknown>>) => boolean;
export type PolicyRegistry = Readonly<Record<string, Policy>>;

export type Verdict = { kind: 'allow' } | { kind: 'deny'; code: 'UNAUTHENTICATED' | 'FORBIDDEN'; message: string };

const ALLOW: Verdict = Object.freeze({ kind: 'allow' });

const DIRECTIVES = new Set(['authenticated', 'requiresScopes', 'policy']);

/** The requirement a field's (or type's) directives state, or undefined when it states none. */
export function requirementOf(directives: readonly ConstDirectiveNode[] | undefined): Requirement | undefined {
  if (!directives?.some((d) => DIRECTIVES.has(d.name.value))) return undefined;
  let authenticated = false;
  const scopes: string[][] = [];
  const policies: string[][] = [];
  for (const directive of directives) {
    switch (directive.name.value) {
      case 'authenticated':
        authenticated = true;
        break;
      case 'requiresScopes':
        scopes.push(...nestedStrings(directive, 'scopes'));
        break;
      case 'policy':
        policies.push(...nestedStrings(directive, 'policies'));
        break;
      default:
        break;
    }
  }
  return { authenticated, scopes, policies };
}

function nestedStrings(directive: ConstDirectiveNode, argument: string): string[][] {
  const node = directive.arguments?.find((a) => a.name.value === argument)?.value;
  const value = node ? (valueFromASTUntyped(node) as unknown) : [];
  if (!Array.isArray(value) || !value.every((inner) => Array.isArray(inner) && inner.every((s) => typeof s === 'string'))) {
    throw new Error(`@${directive.name.value}(${argument}:) must be a list of lists of strings`);
  }
  return value as string[][];
}

/** `Type.field` → requirement, for every field of every object type of the schema that states one. */
export type RequirementMap = ReadonlyMap<string, Requirement>;

/**
 * Every field requirement a schema's SDL states. Read from the AST (a subgraph schema keeps its definitions'
 * AST nodes; for the gateway, pass the supergraph document), so that both depths read the very same directives.
 */
export function requirementsOfDocument(document: DocumentNode): RequirementMap {
  const map = new Map<string, Requirement>();
  for (const definition of document.definitions) {
    if (definition.kind !== 'ObjectTypeDefinition' && definition.kind !== 'ObjectTypeExtension') continue;
    const typeRequirement = requirementOf(definition.directives);
    for (const field of definition.fields ?? []) {
      const requirement = merge(typeRequirement, requirementOf(field.directives));
      if (requirement) map.set(`${definition.name.value}.${field.name.value}`, requirement);
    }
  }
  return map;
}

/** The requirements a built schema's AST nodes state (subgraph schemas are built from SDL, so they keep them). */
export function requirementsOfSchema(schema: GraphQLSchema): RequirementMap {
  const map = new Map<string, Requirement>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!('getFields' in type) || type.name.startsWith('__') || !('isTypeOf' in type)) continue;
    const typeRequirement = requirementOf([...(type.astNode?.directives ?? []), ...type.extensionASTNodes.flatMap((n) => n.directives ?? [])]);
    for (const field of Object.values(type.getFields())) {
      const requirement = merge(typeRequirement, requirementOf(field.astNode?.directives));
      if (requirement) map.set(`${type.name}.${field.name}`, requirement);
    }
  }
  return map;
}

/** A type's requirement applies to each of its fields, on top of the field's own (both must hold). */
function merge(a: Requirement | undefined, b: Requirement | undefined): Requirement | undefined {
  if (!a) return b;
  if (!b) return a;
  return { authenticated: a.authenticated || b.authenticated, scopes: andAlternatives(a.scopes, b.scopes), policies: andAlternatives(a.policies, b.policies) };
}

function andAlternatives(a: readonly (readonly string[])[], b: readonly (readonly string[])[]): string[][] {
  if (a.length === 0) return b.map((x) => [...x]);
  if (b.length === 0) return a.map((x) => [...x]);
  return a.flatMap((x) => b.map((y) => [...x, ...y]));
}

/**
 * Whether a caller may have a field. `args` are the field's coerced arguments: only policies read them, so a
 * requirement without policies is decided by the principal alone.
 */
export function evaluate(requirement: Requirement, principal: Principal, args: Readonly<Record<string, unknown>>, policies: PolicyRegistry, field: string): Verdict {
  if (principal.kind === 'anonymous') return { kind: 'deny', code: 'UNAUTHENTICATED', message: `${field} needs a signed-in caller: send Authorization: Bearer <token>` };
  if (requirement.scopes.length > 0) {
    const held = scopesOf(principal);
    if (!requirement.scopes.some((set) => set.every((scope) => held.has(scope)))) return forbidden(`${field} is not available to a ${roleName(principal)}`);
  }
  if (requirement.policies.length > 0) {
    const passes = (name: string) => {
      const policy = policies[name];
      // An unknown policy name is a schema bug; refusing keeps it from opening a field by accident.
      return policy !== undefined && policy(principal, args);
    };
    if (!requirement.policies.some((set) => set.every(passes))) return forbidden(`${field} is not available to this ${roleName(principal)} with these arguments (another customer's or another location's)`);
  }
  return ALLOW;
}

/** Whether the requirement can be decided without the field's arguments (no policies). */
export function isStatic(requirement: Requirement): boolean {
  return requirement.policies.length === 0;
}

function forbidden(message: string): Verdict {
  return { kind: 'deny', code: 'FORBIDDEN', message };
}

function roleName(principal: Exclude<Principal, { kind: 'anonymous' }>): string {
  switch (principal.kind) {
    case 'shopper':
      return 'shopper';
    case 'store':
      return 'store associate';
    case 'agent':
      return 'service agent';
    case 'finance':
      return 'finance user';
    case 'ops':
      return 'operations user';
    default:
      return assertNever(principal);
  }
}

/** The error of a denied verdict, located by graphql at the field that throws it (or placed by the gateway). */
export function deniedError(verdict: Extract<Verdict, { kind: 'deny' }>): GraphQLError {
  return new GraphQLError(verdict.message, { extensions: { code: verdict.code } });
}

/** A row the caller may not see: FORBIDDEN, located at the field that throws it. */
export function forbiddenError(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN' } });
}

/** A field that needs a signed-in caller. */
export function unauthenticatedError(message = 'this needs a signed-in caller: send Authorization: Bearer <token>'): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED' } });
}
