import { Directive, Field, ID, ObjectType } from 'type-graphql';

/** Owned by customers; this subgraph adds `orders` (see CustomerResolver). Free of Order imports, like Location. */
@Directive('@key(fields: "id")')
@ObjectType('Customer')
export class Customer {
  @Field(() => ID)
  id!: string;

  static ref(id: string): Customer {
    return Object.assign(new Customer(), { id });
  }
}
