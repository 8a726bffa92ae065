import { accounts } from './accounts.js';
import { inventory } from './inventory.js';
import { products } from './products.js';
import { reviews } from './reviews.js';
import type { BenchSubgraph } from './serve.js';

/** The public gateway benchmark's four subgraphs, in its order. */
export const BENCH_SUBGRAPHS: readonly BenchSubgraph[] = [accounts, inventory, products, reviews];
