import { Field, Int, ObjectType } from 'type-graphql';
import { Location } from './location.js';
import { StockStatus } from './stock-status.js';
import type { LocationAvailabilityValue } from './stock.js';

@ObjectType('LocationAvailability', { description: 'What one location can promise of a SKU.' })
export class LocationAvailability {
  @Field(() => Location)
  location!: Location;

  @Field(() => Int)
  available!: number;

  @Field(() => StockStatus)
  status!: StockStatus;
}

@ObjectType('Availability', { description: 'What a set of locations can promise of a SKU.' })
export class Availability {
  @Field(() => Int, { description: 'Sum of `available` over the locations considered.' })
  available!: number;

  @Field(() => StockStatus)
  status!: StockStatus;

  /** The per-location breakdown, mapped only when a client selects `locations` (see availability.resolver.ts). */
  entries!: LocationAvailabilityValue[];
}
