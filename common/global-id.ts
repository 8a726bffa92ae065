/*
 * Global object identification (Relay's `Node`): every entity a client caches answers one `id` that names its type
 * and its key, so a cache can key everything by `id` and `node(id:)` can find anything from the id alone.
 *
 * The format is opaque to clients: base64url (no padding) of `<Type>:<key>`, where a composite key's parts are each
 * percent-encoded (encodeURIComponent) and joined with ':' — a ':' inside a part is encoded, so the split is
 * unambiguous. Only the GraphQL `id` field of a Node type returns it; everything inside (domain objects, events,
 * systems of record, idempotency records, row rules, tokens' `sub`) stays on native ids. Decoding happens where a
 * GraphQL argument or a federation representation comes in.
 *
 * Only what browsers have too (btoa/atob, TextEncoder/TextDecoder), never Node's Buffer: the shipped client cache
 * policies (`clients/apollo.ts`) use this module as it is, in a storefront bundle.
 */

/** The GraphQL types that implement `Node`, with the number of parts of their key. */
export const NODE_TYPES = {
  Product: 1,
  ProductVariant: 1,
  Location: 1,
  Customer: 1,
  Order: 1,
  InventoryLevel: 2,
} as const satisfies Record<string, number>;

export type NodeTypeName = keyof typeof NODE_TYPES;

export function isNodeTypeName(value: string): value is NodeTypeName {
  return Object.prototype.hasOwnProperty.call(NODE_TYPES, value);
}

export interface GlobalId {
  type: string;
  /** The key parts, decoded, in order (one for every type but composite keys). */
  parts: readonly string[];
  /** The key as one string: the single part, or the decoded parts joined with ':' (use `parts` for composite keys). */
  key: string;
}

const TYPE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** Longest value looked at: far beyond any real id, and it keeps a garbage argument from costing anything. */
const MAX_GLOBAL_ID_LENGTH = 1024;

/** The global id of an entity of `type` whose key is `keyParts` (one part for a simple key). */
export function toGlobalId(type: NodeTypeName, ...keyParts: string[]): string {
  if (keyParts.length === 0) throw new Error(`toGlobalId(${type}) needs a key`);
  return toBase64Url(`${type}:${keyParts.map(encodeURIComponent).join(':')}`);
}

function toBase64Url(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The UTF-8 text `value` encodes; undefined when it is not base64url or not UTF-8. */
function fromBase64Url(value: string): string | undefined {
  if (!BASE64URL.test(value)) return undefined;
  try {
    const binary = atob(value.replace(/-/g, '+').replace(/_/g, '/'));
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

/**
 * `{ type, parts, key }` of a global id; null for anything this module did not produce (not canonical base64url,
 * no type, an empty or badly encoded key part). The type is not checked against NODE_TYPES: callers decide.
 */
export function parseGlobalId(value: string): GlobalId | null {
  if (value.length === 0 || value.length > MAX_GLOBAL_ID_LENGTH) return null;
  const decoded = fromBase64Url(value);
  // Base64 has several spellings of some bytes: only a value that encodes back to itself is one of ours.
  if (decoded === undefined || toBase64Url(decoded) !== value) return null;
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  const type = decoded.slice(0, colon);
  if (!TYPE_NAME.test(type)) return null;
  const parts: string[] = [];
  for (const encoded of decoded.slice(colon + 1).split(':')) {
    if (encoded.length === 0) return null;
    try {
      parts.push(decodeURIComponent(encoded));
    } catch {
      return null;
    }
  }
  return { type, parts, key: parts.join(':') };
}

/**
 * The native key that `value` names, when it is a global id of `type` with a one-part key. Anything else is returned
 * unchanged, on purpose: clients and stored references (bookmarks, old app versions, events, emails) hold native
 * ids, and every argument that names an entity keeps accepting them. A global id of another type comes back as is
 * too, and so finds nothing, as an unknown id would.
 */
export function fromGlobalId(type: NodeTypeName, value: string): string {
  const parsed = parseGlobalId(value);
  return parsed && parsed.type === type && parsed.parts.length === 1 ? parsed.key : value;
}

/** `fromGlobalId` for an optional argument. */
export function fromOptionalGlobalId(type: NodeTypeName, value: string | null | undefined): string | null | undefined {
  return typeof value === 'string' ? fromGlobalId(type, value) : value;
}

/** The key parts of a global id of `type` with exactly `NODE_TYPES[type]` parts; null for anything else. */
export function keyPartsOf(type: NodeTypeName, value: string): readonly string[] | null {
  const parsed = parseGlobalId(value);
  return parsed && parsed.type === type && parsed.parts.length === NODE_TYPES[type] ? parsed.parts : null;
}
