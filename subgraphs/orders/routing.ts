import type { OrderSystem } from './ports.js';

/*
 * Which order system owns an id or a number is written in the key itself: the POS issues `ord-s…` / `S…`,
 * e-commerce `ord-w…` / `W…`. Routing by prefix means a lookup only ever asks the owning system, and a key
 * neither system could have issued costs no call at all.
 */

export function systemOfOrderId(id: string): OrderSystem | null {
  if (id.startsWith('ord-s')) return 'pos';
  if (id.startsWith('ord-w')) return 'ecom';
  return null;
}

export function systemOfOrderNumber(number: string): OrderSystem | null {
  if (number.startsWith('S')) return 'pos';
  if (number.startsWith('W')) return 'ecom';
  return null;
}

/** A return lives in the system that holds its order, and its id names the order: `ret-<order id>[-<n>]`. */
export function systemOfReturnId(id: string): OrderSystem | null {
  return id.startsWith('ret-') ? systemOfOrderId(id.slice('ret-'.length)) : null;
}

export type SystemFetchers<V> = Readonly<Record<OrderSystem, (keys: readonly string[]) => Promise<readonly V[]>>>;

/**
 * A DataLoader batch function over both order systems: split the keys by owner, call each system at most once
 * with only its keys, and put the answers back in key order. Keys no system owns get `missing`. A system that
 * fails fails only its own keys (their entries are its error), so a POS outage does not null web orders.
 */
export async function routeBatch<V, M>(
  keys: readonly string[],
  ownerOf: (key: string) => OrderSystem | null,
  fetchers: SystemFetchers<V>,
  missing: M,
): Promise<(V | M | Error)[]> {
  const results: (V | M | Error)[] = keys.map(() => missing);
  const positions: Record<OrderSystem, number[]> = { pos: [], ecom: [] };
  keys.forEach((key, index) => {
    const owner = ownerOf(key);
    if (owner) positions[owner].push(index);
  });
  await Promise.all(
    (Object.keys(positions) as OrderSystem[]).map(async (system) => {
      const at = positions[system];
      if (at.length === 0) return;
      try {
        const answers = await fetchers[system](at.map((i) => keys[i] as string));
        at.forEach((keyIndex, answerIndex) => {
          results[keyIndex] = answerIndex < answers.length ? (answers[answerIndex] as V) : missing;
        });
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error));
        for (const keyIndex of at) results[keyIndex] = failure;
      }
    }),
  );
  return results;
}
