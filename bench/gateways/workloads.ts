/** The public gateway benchmark's heavy query: the same selection, written out here (about 87 KB per response there). */
export const HEAVY_QUERY = /* GraphQL */ `
  fragment User on User {
    id
    username
    name
  }

  fragment Review on Review {
    id
    body
  }

  fragment Product on Product {
    inStock
    name
    price
    shippingEstimate
    upc
    weight
  }

  query TestQuery {
    users {
      ...User
      reviews {
        ...Review
        product {
          ...Product
          reviews {
            ...Review
            author {
              ...User
              reviews {
                ...Review
                product {
                  ...Product
                }
              }
            }
          }
        }
      }
    }
    topProducts {
      ...Product
      reviews {
        ...Review
        author {
          ...User
          reviews {
            ...Review
            product {
              ...Product
            }
          }
        }
      }
    }
  }
`;

/** A light query of the same graph: one root fetch and one entity fetch. */
export const LIGHT_QUERY = /* GraphQL */ `
  query LightQuery {
    topProducts(first: 5) {
      upc
      name
      price
      inStock
    }
  }
`;

/** Who sends a workload's requests. */
export type Caller = 'anonymous' | 'agent';

export interface Workload {
  name: string;
  /** `bench`: the public benchmark's four subgraphs (workloads a, b); `retail`: our own subgraphs (workload c). */
  graph: 'bench' | 'retail';
  query: string;
  operationName: string;
  /** The variables of each request, in turn (one entry: every request the same). */
  variables: readonly (Record<string, unknown> | undefined)[];
  caller: Caller;
}

/** One request body per entry of `variables`, in the same order. */
export function requestBodies(workload: Workload): string[] {
  return workload.variables.map((variables) => JSON.stringify({ query: workload.query, operationName: workload.operationName, ...(variables ? { variables } : {}) }));
}

export const BENCH_WORKLOADS: readonly Workload[] = [
  { name: 'heavy', graph: 'bench', query: HEAVY_QUERY, operationName: 'TestQuery', variables: [undefined], caller: 'anonymous' },
  { name: 'light', graph: 'bench', query: LIGHT_QUERY, operationName: 'LightQuery', variables: [undefined], caller: 'anonymous' },
];
