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

export interface Workload {
  name: string;
  query: string;
  operationName: string;
}

export const WORKLOADS: readonly Workload[] = [
  { name: 'heavy', query: HEAVY_QUERY, operationName: 'TestQuery' },
  { name: 'light', query: LIGHT_QUERY, operationName: 'LightQuery' },
];
