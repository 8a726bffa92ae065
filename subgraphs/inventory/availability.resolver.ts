import { FieldResolver, Resolver, Root } from 'type-graphql';
import { Availability, LocationAvailability } from './availability.js';
import { toLocationAvailability } from './mapping.js';

/**
 * The per-location breakdown is mapped on demand: a listing page asks only the sums over 25 locations for 60
 * SKUs, and building 1,500 breakdown entries it never sends was most of its cost.
 */
@Resolver(() => Availability)
export class AvailabilityResolver {
  @FieldResolver(() => [LocationAvailability], { description: 'Every considered location holding a stock record of the SKU, stores first, then warehouses, by id.' })
  locations(@Root() availability: Availability): LocationAvailability[] {
    return availability.entries.map(toLocationAvailability);
  }
}
