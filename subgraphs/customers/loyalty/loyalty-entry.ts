import { Directive, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from '../../../common/graphql-types.js';
import type { LoyaltyEntry as LoyaltyEntryRecord } from '../ports.js';

/** The graph's enum is the ledger's kinds; the mapped type makes the compiler flag a kind added on either side. */
export const LoyaltyEntryKind: { readonly [K in LoyaltyEntryRecord['kind']]: K } = { EARNED: 'EARNED', REVERSED: 'REVERSED' };
export type LoyaltyEntryKind = LoyaltyEntryRecord['kind'];

registerEnumType(LoyaltyEntryKind, {
  name: 'LoyaltyEntryKind',
  description: 'Which way a loyalty ledger entry moved the balance.',
  valuesConfig: {
    EARNED: { description: 'Points earned on an order picked up or delivered.' },
    REVERSED: { description: 'Points taken back for a received return of an order.' },
  },
});

/** Owned by the orders subgraph; the ledger only names an order and lets the gateway fetch the rest there. */
@Directive('@key(fields: "id", resolvable: false)')
@ObjectType('Order')
export class OrderRef {
  @Field(() => ID)
  id!: string;
}

@ObjectType('LoyaltyEntry', { description: "One entry of the customer's loyalty ledger in the CRM." })
export class LoyaltyEntry {
  @Field(() => ID, { description: 'The entry\'s reference in the CRM (one per order earned, one per return reversed).' })
  reference!: string;

  @Field(() => LoyaltyEntryKind)
  kind!: LoyaltyEntryKind;

  @Field(() => Int, { description: 'Points the entry moved (always positive; `kind` says which way).' })
  points!: number;

  @Field(() => Int, { description: 'The points balance right after this entry.' })
  balance!: number;

  @Field(() => OrderRef, { description: 'The order the points were earned on or reversed for.' })
  order!: OrderRef;

  @Field(() => ID, { nullable: true, description: 'The return the points were reversed for; null for an earning.' })
  returnId!: string | null;

  @Field(() => DateTimeScalar, { description: 'When the CRM booked it.' })
  occurredAt!: string;
}
