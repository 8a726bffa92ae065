import { USERS, userById } from '../data.js';
import type { BenchSubgraph } from './serve.js';

export const accounts: BenchSubgraph = {
  name: 'accounts',
  typeDefs: /* GraphQL */ `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])

    type Query {
      me: User
      user(id: ID!): User
      users: [User]
    }

    type User @key(fields: "id") {
      id: ID!
      name: String
      username: String @shareable
      birthday: Int
    }
  `,
  resolvers: {
    Query: {
      me: () => USERS[0],
      user: (_: unknown, args: { id: string }) => userById(args.id) ?? null,
      users: () => USERS,
    },
    User: {
      __resolveReference: (ref: { id: string }) => userById(ref.id) ?? null,
    },
  },
};
