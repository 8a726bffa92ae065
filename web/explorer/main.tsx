import { useEditorContext, type GraphiQLPlugin } from '@graphiql/react';
import { createGraphiQLFetcher, type Fetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { Kind, parse, type DocumentNode } from 'graphql';
import { createClient } from 'graphql-ws';
import { StrictMode, useEffect, useState, type ChangeEvent } from 'react';
import { createRoot } from 'react-dom/client';
import 'graphiql/style.css';
import './explorer.css';

/*
 * The gateway's explorer: GraphiQL, bundled (scripts/web.ts) and served by the gateway itself (gateway/explorer.ts),
 * so that it loads nothing from the internet. The page embeds the client contract's operations; this lists them, and
 * sends what the caller runs to the same origin's /graphql (HTTP, and graphql-ws for subscriptions) with the bearer
 * token pasted in the header bar.
 */

/** One contract operation, as gateway/explorer.ts embeds it in the page. */
interface ExplorerOperation {
  name: string;
  file: string;
  kind: 'query' | 'mutation' | 'subscription';
  document: string;
  description?: string;
  /** JSON for the variables editor: the contract's example, or a template of the operation's variables. */
  variables?: string;
}

const TOKEN_KEY = 'explorer.token';

function embeddedOperations(): ExplorerOperation[] {
  const text = document.getElementById('explorer-contract')?.textContent;
  if (!text) return [];
  const parsed = JSON.parse(text) as { operations?: ExplorerOperation[] };
  return parsed.operations ?? [];
}

/** Session storage can be refused (a locked-down profile); the explorer then just forgets the token on reload. */
function storedToken(): string {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

function storeToken(token: string): void {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Not kept across a reload; still used for this page's requests.
  }
}

/** People paste the whole header value as often as the token alone. */
const normalizeToken = (raw: string): string => raw.trim().replace(/^bearer\s+/i, '');

// Read at request time, not baked into the fetcher: a new fetcher would make GraphiQL fetch the schema again.
let currentToken = normalizeToken(storedToken());
const authorization = (): string | undefined => (currentToken ? `Bearer ${currentToken}` : undefined);

/** Adds the token unless the headers editor already names an Authorization of its own. */
function withAuthorization(init: RequestInit | undefined): RequestInit | undefined {
  const value = authorization();
  if (!value) return init;
  const headers = new Headers(init?.headers);
  if (!headers.has('authorization')) headers.set('authorization', value);
  return { ...init, headers };
}

const endpoint = new URL('/graphql', window.location.href);
// Lazy: each new subscription after the socket closed connects again and so signs in with the token of that moment.
const wsClient = createClient({
  url: endpoint.href.replace(/^http/, 'ws'),
  lazy: true,
  connectionParams: () => {
    const value = authorization();
    return value ? { authorization: value } : {};
  },
});
const sendToGateway = createGraphiQLFetcher({
  url: endpoint.pathname,
  wsClient,
  // The gateway answers with one JSON result: no multipart (incremental delivery) to negotiate.
  enableIncrementalDelivery: false,
  fetch: (input, init) => window.fetch(input, withAuthorization(init)),
});

/**
 * The operation run is the one in the editor's text. GraphiQL hands the fetcher its own parse of the editor (the
 * operation name, and the document the toolkit tells subscriptions by), which lags a programmatic change: an Execute
 * right after a contract operation was opened sent the name of the operation before (the gateway refused it,
 * OPERATION_RESOLUTION_FAILURE), or sent a subscription over HTTP instead of the WebSocket.
 */
const fetcher: Fetcher = (params, options) => {
  let document: DocumentNode;
  try {
    document = parse(params.query);
  } catch {
    return sendToGateway(params, options); // Not a document: the gateway's own answer says what is wrong with it.
  }
  const names = document.definitions.flatMap((d) => (d.kind === Kind.OPERATION_DEFINITION && d.name ? [d.name.value] : []));
  const given = params.operationName;
  const operationName = given && names.includes(given) ? given : names.length === 1 ? names[0] : given;
  return sendToGateway({ ...params, operationName }, { ...options, documentAST: document });
};

const operations = embeddedOperations();

/** The editor text of an operation: the contract's comment above it, then the operation. */
const editorText = (op: ExplorerOperation): string =>
  `${(op.description ?? '').split('\n').filter(Boolean).map((line) => `# ${line}\n`).join('')}${op.document}\n`;

function ContractPanel() {
  const editor = useEditorContext({ nonNull: true });
  const files = [...new Set(operations.map((op) => op.file))];
  const open = (op: ExplorerOperation) => {
    editor.queryEditor?.setValue(editorText(op));
    editor.variableEditor?.setValue(op.variables ?? '');
  };
  return (
    <section className="explorer-contract" aria-label="Client contract operations">
      <div className="graphiql-doc-explorer-title">Client contract</div>
      {operations.length === 0 ? <p>No contract operations were found (CONTRACT_DIR).</p> : null}
      {files.map((file) => (
        <div key={file}>
          <h3 className="explorer-contract-file">{file}</h3>
          <ul>
            {operations
              .filter((op) => op.file === file)
              .map((op) => (
                <li key={op.name}>
                  <button type="button" className="explorer-operation" data-operation={op.name} title={op.description} onClick={() => open(op)}>
                    <span className="explorer-operation-name">{op.name}</span>
                    <span className={`explorer-operation-kind explorer-kind-${op.kind}`}>{op.kind}</span>
                  </button>
                </li>
              ))}
          </ul>
        </div>
      ))}
    </section>
  );
}

function ContractIcon() {
  return (
    <svg viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="currentColor" strokeWidth="1.5" aria-hidden="true">
      <path d="M7 3h7l4 4v14H7z" />
      <path d="M14 3v4h4M9.5 12h6M9.5 15h6M9.5 18h4" />
    </svg>
  );
}

const CONTRACT_PLUGIN: GraphiQLPlugin = { title: 'Client contract', icon: ContractIcon, content: ContractPanel };
const PLUGINS = [CONTRACT_PLUGIN];

const DEFAULT_QUERY = `# The retail supergraph's explorer.
#
# The client contract's operations are listed in the panel on the left: pick one to open it here.
# Paste a bearer token in the field above to run as that caller; without one you are anonymous.
# Run with the button beside this editor, or Ctrl-Enter.

query Stores {
  locations(type: STORE, pickupEnabled: true) { id name }
}
`;

function TokenField() {
  const [token, setToken] = useState(currentToken);
  const onChange = (event: ChangeEvent<HTMLInputElement>) => {
    const next = normalizeToken(event.target.value);
    currentToken = next;
    storeToken(next);
    setToken(event.target.value);
  };
  return (
    <label className="explorer-token">
      <span>Bearer token</span>
      <input
        id="explorer-token"
        type="text"
        value={token}
        onChange={onChange}
        placeholder="paste a token (sent as Authorization: Bearer …); empty: anonymous"
        autoComplete="off"
        spellCheck={false}
      />
    </label>
  );
}

function Explorer() {
  // Open on the contract panel. Not with GraphiQL's `visiblePlugin` prop: in graphiql 4.1 that renders the plugin into
  // a pane that stays collapsed (the pane's state is taken before the prop reaches the plugin store). The sidebar's own
  // button opens both; it appears once GraphiQL's plugin store has the plugins, a render or two after this one.
  useEffect(() => {
    const selector = `.graphiql-sidebar button[aria-label="Show ${CONTRACT_PLUGIN.title}"]`;
    const open = (): boolean => {
      const button = document.querySelector<HTMLButtonElement>(selector);
      button?.click();
      return button !== null;
    };
    if (open()) return;
    const observer = new MutationObserver(() => {
      if (open()) observer.disconnect();
    });
    observer.observe(document.body, { childList: true, subtree: true });
    return () => observer.disconnect();
  }, []);
  return (
    <div className="explorer">
      <header className="explorer-bar">
        <strong>Retail supergraph</strong>
        <TokenField />
      </header>
      <div className="explorer-graphiql">
        <GraphiQL fetcher={fetcher} plugins={PLUGINS} defaultQuery={DEFAULT_QUERY} defaultEditorToolsVisibility="variables">
          <GraphiQL.Logo>Explorer</GraphiQL.Logo>
        </GraphiQL>
      </div>
    </div>
  );
}

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <Explorer />
    </StrictMode>,
  );
}
