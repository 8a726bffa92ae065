import { Field, Int, ObjectType } from 'type-graphql';
import { Location } from './location.js';
import { StockStatus } from './stock-status.js';

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

  @Field(() => [LocationAvailability], { description: 'Every considered location holding a stock record of the SKU, stores first, then warehouses, by id.' })
  locations!: LocationAvailability[];
}
