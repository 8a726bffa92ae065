import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { Kind, parse, valueFromASTUntyped, type TypeNode, type VariableDefinitionNode } from 'graphql';
import { readContractOperations, type ContractOperation } from '../common/contract.js';
import { headerValue, type Route } from '../common/http.js';
import type { Logger } from '../common/logger.js';
import { loadWebBundle, renderPageShell, sendText, webAssetsDir } from './web-assets.js';

/*
 * The explorer at GET /graphql: GraphiQL as `npm run build` bundled it (web/explorer, scripts/web.ts), served from this
 * gateway's own origin. The page and its two assets are everything the browser loads, so the explorer works with no
 * internet access, and a Content-Security-Policy of 'self' holds it to that. A GET that is not a browser asking for a
 * page (no `Accept: text/html`, or a `query` in the URL) is GraphQL over HTTP as before.
 */

/** Where the explorer comes from. */
export interface ExplorerOptions {
  /** The client contract's folder (`CONTRACT_DIR`): its operations are the explorer's examples, read once at start. */
  contractDir: string;
  /** The bundle `npm run build` wrote: `main.js` and `main.css`. @default EXPLORER_ASSETS_DIR (dist/web/explorer) */
  assetsDir: string;
}

export interface ExplorerRouteOptions extends ExplorerOptions {
  /** What `/graphql` does for every request that is not a browser asking for the page. */
  graphql: Route;
  logger: Logger;
}

/** dist/web/explorer beside this file's dist/, whether the gateway runs from dist/ or from source (vitest). */
export const EXPLORER_ASSETS_DIR = webAssetsDir('explorer');

/**
 * The explorer a configuration asks for: none in production, where introspection is off and an explorer has no
 * schema to work with; otherwise the contract at `contractDir` and the built bundle.
 */
export function explorerFor(config: { production: boolean; contractDir: string }): ExplorerOptions | undefined {
  return config.production ? undefined : { contractDir: resolve(config.contractDir), assetsDir: EXPLORER_ASSETS_DIR };
}

/** Only the page's own origin; GraphiQL sets inline styles (editor sizes), and its fonts and icons are data: URLs. */
export const EXPLORER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** One contract operation as the page embeds it (web/explorer/main.tsx reads this shape). */
export interface ExplorerOperation extends ContractOperation {
  /** JSON for the variables editor: a template of the operation's variables (their defaults where it has them). */
  variables?: string | undefined;
}

/** `/graphql` (the page for browsers, `graphql` for the rest) and `/explorer/main.js`, `/explorer/main.css`. */
export function createExplorerRoutes(options: ExplorerRouteOptions): Record<string, Route> {
  const { logger } = options;
  const operations = explorerOperations(options.contractDir, logger);
  const bundle = loadWebBundle(options.assetsDir, 'The explorer is not built: run `npm run build`.');
  if (!bundle.built) logger.warn({ assetsDir: options.assetsDir }, 'the explorer is not built (npm run build): GET /graphql from a browser answers 503');
  const page = bundle.built ? renderPage(operations) : undefined;

  const servePage = (res: ServerResponse) => {
    if (!page) return sendText(res, 503, 'text/plain; charset=utf-8', 'The explorer is not built: run `npm run build`.\n', { 'cache-control': 'no-store' });
    sendText(res, 200, 'text/html; charset=utf-8', page, {
      'content-security-policy': EXPLORER_CSP,
      // The page embeds the contract as read at start; a new start may read another.
      'cache-control': 'no-cache',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      vary: 'Accept',
    });
  };

  return {
    '/graphql': (req, res, url) => (wantsPage(req, url) ? servePage(res) : options.graphql(req, res, url)),
    '/explorer/main.js': bundle.route('main.js'),
    '/explorer/main.css': bundle.route('main.css'),
  };
}

/** A browser navigating to /graphql: a GET for HTML that carries no operation of its own. */
export function wantsPage(req: IncomingMessage, url: URL): boolean {
  if (req.method !== 'GET') return false;
  if (url.searchParams.has('query') || url.searchParams.has('documentId')) return false;
  return /\btext\/html\b/i.test(headerValue(req, 'accept') ?? '');
}

function explorerOperations(contractDir: string, logger: Logger): ExplorerOperation[] {
  try {
    return readContractOperations(contractDir).map((op) => ({ ...op, variables: variablesTemplate(op.document) }));
  } catch (error) {
    // The explorer is a convenience: a missing contract leaves its list empty, never the gateway down.
    logger.warn({ err: error, contractDir }, 'the explorer could not read the client contract; it lists no operations');
    return [];
  }
}

/**
 * The variables editor's starting text: every variable of the operation, with its default when it has one and
 * otherwise a placeholder of its type to fill in. The contract has no example values of its own.
 */
export function variablesTemplate(document: string): string | undefined {
  const definition = parse(document).definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  const variables = definition?.kind === Kind.OPERATION_DEFINITION ? (definition.variableDefinitions ?? []) : [];
  if (variables.length === 0) return undefined;
  const entries = variables.map((v) => [v.variable.name.value, placeholder(v)] as const);
  return `${JSON.stringify(Object.fromEntries(entries), null, 2)}`;
}

function placeholder(variable: VariableDefinitionNode): unknown {
  if (variable.defaultValue) return valueFromASTUntyped(variable.defaultValue);
  return variable.type.kind === Kind.NON_NULL_TYPE ? placeholderOf(variable.type.type) : null;
}

function placeholderOf(type: TypeNode): unknown {
  if (type.kind === Kind.NON_NULL_TYPE) return placeholderOf(type.type);
  if (type.kind === Kind.LIST_TYPE) return [];
  switch (type.name.value) {
    case 'Int':
    case 'Float':
      return 0;
    case 'Boolean':
      return false;
    case 'String':
    case 'ID':
      return '';
    default:
      // An input object, an enum or a custom scalar: its shape is in the docs pane; {} is where most start.
      return /Input$/.test(type.name.value) ? {} : null;
  }
}

function renderPage(operations: readonly ExplorerOperation[]): string {
  return renderPageShell({
    title: 'Retail supergraph explorer',
    base: '/explorer',
    dataId: 'explorer-contract',
    data: { operations },
    rootId: 'root',
    noscript: 'The explorer needs JavaScript. GraphQL requests go to POST /graphql.',
  });
}
