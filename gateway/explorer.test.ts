import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { readContractOperations } from '../common/contract.js';
import { CONTRACT_DIR } from '../scripts/contract.js';
import { variablesTemplate, wantsPage } from './explorer.js';

const request = (method: string, accept?: string) => ({ method, headers: accept === undefined ? {} : { accept } }) as unknown as IncomingMessage;
const at = (path: string) => new URL(path, 'http://127.0.0.1');

describe('the explorer', () => {
  it('is the answer only to a browser navigating to /graphql', () => {
    const browser = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
    expect(wantsPage(request('GET', browser), at('/graphql'))).toBe(true);
    // An operation in the URL is a query, whoever sends it.
    expect(wantsPage(request('GET', browser), at('/graphql?query=%7B__typename%7D'))).toBe(false);
    expect(wantsPage(request('GET', browser), at('/graphql?documentId=abc'))).toBe(false);
    expect(wantsPage(request('GET', 'application/graphql-response+json, application/json'), at('/graphql'))).toBe(false);
    expect(wantsPage(request('GET'), at('/graphql'))).toBe(false);
    expect(wantsPage(request('POST', browser), at('/graphql'))).toBe(false);
  });

  it('starts each operation with a template of its variables: defaults, else a placeholder of the type', () => {
    expect(variablesTemplate('query A { __typename }')).toBeUndefined();
    expect(JSON.parse(variablesTemplate('query A($id: ID!, $q: String, $n: Int = 20, $on: Boolean!, $ids: [ID!]!, $s: Status = OPEN, $in: PlaceOrderInput!, $at: DateTime!) { __typename }') ?? '')).toEqual({
      id: '',
      q: null,
      n: 20,
      on: false,
      ids: [],
      s: 'OPEN',
      in: {},
      at: null,
    });
  });

  it('reads the contract with the comment above each operation', () => {
    const operations = readContractOperations(CONTRACT_DIR);
    expect(operations.find((o) => o.name === 'PickupStores')?.description).toBe('Stores that can hand over a pickup order today.');
    expect(operations.find((o) => o.name === 'StoreInventory')?.description).toMatch(/^Live stock at my store\. Fires on every change.*\nreceipt, cycle count/s);
    // No comment right above it (a blank line, or none at all): no description.
    expect(operations.find((o) => o.name === 'OrderByNumber')?.description).toBeUndefined();
  });
});
