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

  /** Whose standing it is (not a field): what `history` reads the ledger by. */
  customerId!: string;
}

@ObjectType('MarketingConsent', { description: 'Channels the customer agreed to receive marketing on.' })
export class MarketingConsent {
  @Field(() => Boolean)
  email!: boolean;

  @Field(() => Boolean)
  sms!: boolean;
}

/*
 * Every field but the key is nullable: a caller who may not see one gets null there, with a FORBIDDEN error located
 * at it, and keeps the rest. Who sees which field of a customer: the customer themselves and service agents everything; a store associate
 * the name and phone of the customers whose orders their store hands over or ships; finance the name. Which
 * customer a shopper or a store may see at all is the reference resolver's row rule.
 */
const PRIVATE = '@requiresScopes(scopes: [["shopper"], ["agent"]])';

@Directive('@key(fields: "id")')
@ObjectType('Customer', { description: 'A customer of the CRM customer master.' })
export class Customer {
  @Field(() => ID)
  id!: string;

  @Directive('@requiresScopes(scopes: [["shopper"], ["store"], ["agent"], ["finance"]])')
  @Field(() => String, { nullable: true, description: 'Display name, "First Last".' })
  name!: string;

  @Directive(PRIVATE)
  @Field(() => String, { nullable: true })
  firstName!: string;

  @Directive(PRIVATE)
  @Field(() => String, { nullable: true })
  lastName!: string;

  @Directive(PRIVATE)
  @Field(() => String, { nullable: true })
  email!: string;

  @Directive('@requiresScopes(scopes: [["shopper"], ["store"], ["agent"]])')
  @Field(() => String, { nullable: true, description: 'Phone number as the CRM holds it, e.g. "+49 30 1234567".' })
  phone!: string;

  @Directive(PRIVATE)
  @Field(() => Loyalty, { nullable: true })
  loyalty!: Loyalty;

  @Directive(PRIVATE)
  @Field(() => MarketingConsent, { nullable: true })
  marketingConsent!: MarketingConsent;

  @Directive(PRIVATE)
  @Field(() => DateTimeScalar, { nullable: true, description: 'When the customer was created in the CRM.' })
  createdAt!: string;
}
