import { defaultFieldResolver, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { deniedError, evaluate, requirementsOfSchema, type PolicyRegistry } from './authorization.js';
import { POLICIES } from './policies.js';
import { ANONYMOUS, type Principal } from './principal.js';

/** The caller of a resolver's context (every context of this project carries one; anything else is anonymous). */
export function principalOf(context: unknown): Principal {
  const principal = (context as { principal?: Principal } | null | undefined)?.principal;
  return principal ?? ANONYMOUS;
}

/**
 * Make a subgraph schema enforce its own authorization directives, so that a request that reaches the subgraph's
 * port directly (not through the gateway) gets no more than it would through the gateway: every field that states
 * `@authenticated`, `@requiresScopes` or `@policy` checks the caller before its resolver runs (a subscription
 * field before its stream starts), and a refusal is a located UNAUTHENTICATED or FORBIDDEN error. The rows
 * (whose order, which store) stay the resolvers' own business.
 *
 * Resolvers are wrapped in place: the schema's federation extensions (`_entities`, reference resolvers) stay
 * exactly as `buildSubgraphSchema` made them.
 */
export function enforceAuthorization(schema: GraphQLSchema, policies: PolicyRegistry = POLICIES): GraphQLSchema {
  const subscriptionType = schema.getSubscriptionType();
  for (const [key, requirement] of requirementsOfSchema(schema)) {
    const [typeName = '', fieldName = ''] = key.split('.');
    const type = schema.getType(typeName);
    if (!isObjectType(type)) continue;
    const field = type.getFields()[fieldName];
    if (!field) continue;
    const guard = <T extends GraphQLFieldResolver<unknown, unknown>>(inner: T): T =>
      ((source: unknown, args: Record<string, unknown>, context: unknown, info: never) => {
        const verdict = evaluate(requirement, principalOf(context), args, policies, key);
        if (verdict.kind === 'deny') throw deniedError(verdict);
        return inner(source, args, context, info);
      }) as T;
    if (type === subscriptionType && field.subscribe) field.subscribe = guard(field.subscribe);
    else field.resolve = guard(field.resolve ?? defaultFieldResolver);
  }
  return schema;
}
