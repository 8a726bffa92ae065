import { Kind, parse, print, visit, type ConstDirectiveNode } from 'graphql';

/*
 * @apollo/gateway refuses to serve a supergraph that links a `for: SECURITY` feature (`@authenticated`,
 * `@requiresScopes`, `@policy`), because it does not enforce them: a safe default, since serving such a supergraph
 * would silently ignore the rules. This gateway enforces them itself, at its edge, before anything is planned
 * (operation-authorizer.ts), and every subgraph enforces them again. So Apollo's planner and executor get the
 * supergraph without those features, and the edge reads them from the full, checked-in one.
 */

const SECURITY_DIRECTIVES = new Set(['authenticated', 'requiresScopes', 'policy']);
const SECURITY_SCALARS = new Set(['requiresScopes__Scope', 'policy__Policy']);

/**
 * A link to one of the three authorization features. `@inaccessible` is linked `for: SECURITY` too, but Apollo
 * serves it (it is what keeps inaccessible types and fields out of the API schema): its link must stay.
 */
function isSecurityLink(directive: ConstDirectiveNode): boolean {
  if (directive.name.value !== 'link') return false;
  const url = directive.arguments?.find((a) => a.name.value === 'url')?.value;
  const feature = url?.kind === Kind.STRING ? /\/([A-Za-z]+)\/v[\d.]+$/.exec(url.value)?.[1] : undefined;
  if (!feature || !SECURITY_DIRECTIVES.has(feature)) return false;
  return directive.arguments?.some((a) => a.name.value === 'for' && a.value.kind === Kind.ENUM && a.value.value === 'SECURITY') ?? false;
}

/** The supergraph SDL without its security features: what Apollo's planner and executor are given. */
export function withoutSecurityFeatures(supergraphSdl: string): string {
  const stripped = visit(parse(supergraphSdl), {
    Directive(node) {
      if (SECURITY_DIRECTIVES.has(node.name.value) || isSecurityLink(node as ConstDirectiveNode)) return null;
      return undefined;
    },
    DirectiveDefinition(node) {
      return SECURITY_DIRECTIVES.has(node.name.value) ? null : undefined;
    },
    ScalarTypeDefinition(node) {
      return SECURITY_SCALARS.has(node.name.value) ? null : undefined;
    },
  });
  return print(stripped);
}
