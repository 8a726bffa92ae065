import { printSubgraphSchema } from '@apollo/subgraph';
import { describe, expect, it } from 'vitest';
import { buildCatalogSchema } from './index.js';

describe('catalog subgraph schema', () => {
  it('declares Product and ProductVariant as entities with the contract fields', async () => {
    const sdl = printSubgraphSchema(await buildCatalogSchema());
    expect(sdl).toMatch(/type Product\s+@key\(fields: "id"\)/);
    expect(sdl).toMatch(/type ProductVariant\s+@key\(fields: "sku"\)/);
    expect(sdl).toContain('products(');
    expect(sdl).toMatch(/type Money\s+@shareable/);
  });
});
