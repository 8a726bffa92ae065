/**
 * The benchmark graph's data: the same shape as the public gateway benchmark (graphql-hive/graphql-gateways-
 * benchmark: 6 users, 9 products, 11 reviews whose bodies make its nested query about 87 KB), written here and
 * fully deterministic, so every gateway and the direct execution see the same rows.
 */
export interface BenchUser {
  id: string;
  name: string;
  username: string;
  birthday: number;
}

export interface BenchProduct {
  upc: string;
  name: string;
  price: number;
  weight: number;
}

export interface BenchReview {
  id: string;
  body: string;
  productUpc: string;
  authorId: string;
}

export const USERS: readonly BenchUser[] = [
  { id: '1', name: 'Ada Lindqvist', username: 'ada', birthday: 631152000 },
  { id: '2', name: 'Bruno Okafor', username: 'bruno', birthday: 662688000 },
  { id: '3', name: 'Chiara Mele', username: 'chiara', birthday: 694224000 },
  { id: '4', name: 'Dmitri Sokol', username: 'dmitri', birthday: 725846400 },
  { id: '5', name: 'Esme Varga', username: 'esme', birthday: 757382400 },
  { id: '6', name: 'Farid Haddad', username: 'farid', birthday: 788918400 },
];

export const PRODUCTS: readonly BenchProduct[] = [
  { upc: '1', name: 'Oak table', price: 899, weight: 100 },
  { upc: '2', name: 'Linen couch', price: 1299, weight: 1000 },
  { upc: '3', name: 'Tumbler', price: 15, weight: 20 },
  { upc: '4', name: 'Desk chair', price: 499, weight: 100 },
  { upc: '5', name: 'Television', price: 1299, weight: 1000 },
  { upc: '6', name: 'Floor lamp', price: 6999, weight: 300 },
  { upc: '7', name: 'Charcoal grill', price: 3999, weight: 2000 },
  { upc: '8', name: 'Fridge', price: 100000, weight: 6000 },
  { upc: '9', name: 'Corner sofa', price: 9999, weight: 800 },
];

/** Inventory's own column: in stock or not, by upc. */
export const IN_STOCK: ReadonlyMap<string, boolean> = new Map(PRODUCTS.map((p, i) => [p.upc, i % 3 !== 1]));

const WORDS = 'stock shelf aisle parcel order refund pickup store ledger invoice carton pallet courier receipt basket voucher season bundle label batch'.split(' ');

/** Text of exactly `length` characters, from a fixed word list and a seed (no randomness between runs). */
function text(seed: number, length: number): string {
  let out = '';
  let i = seed;
  while (out.length < length) {
    out += `${out ? ' ' : ''}${WORDS[(i * 7 + 3) % WORDS.length]}`;
    i++;
  }
  return `${out.slice(0, length - 1)}.`;
}

// The public benchmark's body lengths, so the heavy response has its size.
const BODY_LENGTHS = [446, 304, 274, 143, 446, 304, 274, 143, 143, 143, 900];
const REVIEW_PRODUCTS = ['1', '1', '1', '1', '2', '2', '2', '2', '3', '4', '4'];

export const REVIEWS: readonly BenchReview[] = BODY_LENGTHS.map((length, i) => ({
  id: String(i + 1),
  body: text(i, length),
  productUpc: REVIEW_PRODUCTS[i] ?? '1',
  // Users 1–5 wrote two reviews each and user 6 one, so every user's `reviews` has rows.
  authorId: String((i % USERS.length) + 1),
}));

/** Inventory's rule, from the fields it requires of products: free above 1000, else half the weight. */
export function shippingEstimate(price: number | null | undefined, weight: number | null | undefined): number | null {
  if (price == null) return null;
  if (price > 1000) return 0;
  return weight == null ? null : Math.floor(weight / 2);
}

export const userById = (id: string): BenchUser | undefined => USERS.find((u) => u.id === id);
export const productByUpc = (upc: string): BenchProduct | undefined => PRODUCTS.find((p) => p.upc === upc);
export const reviewsOfProduct = (upc: string): BenchReview[] => REVIEWS.filter((r) => r.productUpc === upc);
export const reviewsOfUser = (id: string): BenchReview[] => REVIEWS.filter((r) => r.authorId === id);
