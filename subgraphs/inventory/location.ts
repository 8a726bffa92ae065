import { Directive, Field, ID, ObjectType, registerEnumType } from 'type-graphql';

export enum LocationType {
  STORE = 'STORE',
  WAREHOUSE = 'WAREHOUSE',
}

registerEnumType(LocationType, { name: 'LocationType', description: 'Stores are kept by the POS, warehouses by the WMS.' });

// Shareable so that another subgraph may declare the same postal address type without a composition clash.
@Directive('@shareable')
@ObjectType('Address', { description: 'A postal address.' })
export class Address {
  @Field(() => String)
  line1!: string;

  @Field(() => String)
  city!: string;

  @Field(() => String)
  postalCode!: string;

  @Field(() => String, { description: 'ISO 3166-1 alpha-2 country code.' })
  country!: string;
}

@Directive('@key(fields: "id")')
@ObjectType('Location', { description: 'A store (POS) or a warehouse (WMS) that holds stock.' })
export class Location {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => LocationType)
  type!: LocationType;

  @Field(() => Boolean, { description: 'Whether customers can collect orders here.' })
  pickupEnabled!: boolean;

  @Field(() => Address)
  address!: Address;
}
