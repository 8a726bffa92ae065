import { Directive, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from '../../common/graphql-types.js';
import type { LoyaltyTierCode } from './ports.js';

/** The graph's enum is the CRM's tier set; the mapped type makes the compiler flag a tier added on either side. */
export const LoyaltyTier: { readonly [K in LoyaltyTierCode]: K } = { BRONZE: 'BRONZE', SILVER: 'SILVER', GOLD: 'GOLD', PLATINUM: 'PLATINUM' };
export type LoyaltyTier = LoyaltyTierCode;

registerEnumType(LoyaltyTier, { name: 'LoyaltyTier', description: 'Loyalty programme tier, lowest to highest.' });

@ObjectType('Loyalty', { description: "The customer's standing in the loyalty programme." })
export class Loyalty {
  @Field(() => LoyaltyTier)
  tier!: LoyaltyTier;

  @Field(() => Int, { description: 'Points available to redeem.' })
  pointsBalance!: number;
}

@ObjectType('MarketingConsent', { description: 'Channels the customer agreed to receive marketing on.' })
export class MarketingConsent {
  @Field(() => Boolean)
  email!: boolean;

  @Field(() => Boolean)
  sms!: boolean;
}

@Directive('@key(fields: "id")')
@ObjectType('Customer', { description: 'A customer of the CRM customer master.' })
export class Customer {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'Display name, "First Last".' })
  name!: string;

  @Field(() => String)
  firstName!: string;

  @Field(() => String)
  lastName!: string;

  @Field(() => String)
  email!: string;

  @Field(() => String, { description: 'Phone number as the CRM holds it, e.g. "+49 30 1234567".' })
  phone!: string;

  @Field(() => Loyalty)
  loyalty!: Loyalty;

  @Field(() => MarketingConsent)
  marketingConsent!: MarketingConsent;

  @Field(() => DateTimeScalar, { description: 'When the customer was created in the CRM.' })
  createdAt!: string;
}
