import { Directive, Field, ID, ObjectType } from 'type-graphql';

/**
 * Owned by inventory; this subgraph adds `pickupQueue` (see LocationResolver). Kept free of Order imports so
 * that order.ts can refer to it without an import cycle.
 */
@Directive('@key(fields: "id")')
@ObjectType('Location')
export class Location {
  @Field(() => ID)
  id!: string;

  static ref(id: string): Location {
    return Object.assign(new Location(), { id });
  }
}
