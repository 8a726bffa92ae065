import { Directive, Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar, UserError } from '../../../common/graphql-types.js';
import type { ExceptionKind as ExceptionKindName, ExceptionStatus as ExceptionStatusName } from '../../../common/systems/exceptions.js';
import type { StoreTransactionStatus as StoreTransactionStatusName } from './store-sync.service.js';
import type { StoreTransactionKind as StoreTransactionKindName } from './sync-rules.js';

export const StoreTransactionKind: { readonly [K in StoreTransactionKindName]: K } = { SALE: 'SALE', RETURN: 'RETURN' };
registerEnumType(StoreTransactionKind, {
  name: 'StoreTransactionKind',
  description: 'What a store transaction recorded at the till did to stock.',
  valuesConfig: { SALE: { description: 'Units sold: on hand goes down.' }, RETURN: { description: 'Units a customer brought back to stock: on hand goes up.' } },
});

export const StoreTransactionStatus: { readonly [K in StoreTransactionStatusName]: K } = { APPLIED: 'APPLIED', DUPLICATE: 'DUPLICATE' };
registerEnumType(StoreTransactionStatus, {
  name: 'StoreTransactionStatus',
  description: 'What a sync did with one store transaction.',
  valuesConfig: { APPLIED: { description: 'Applied now.' }, DUPLICATE: { description: 'Applied before under the same id (sent again): nothing changed.' } },
});

export const ExceptionKind: { readonly [K in ExceptionKindName]: K } = { OVERSOLD: 'OVERSOLD', ACK_WINDOW_MISSED: 'ACK_WINDOW_MISSED', REROUTE_FAILED: 'REROUTE_FAILED' };
registerEnumType(ExceptionKind, {
  name: 'ExceptionKind',
  description: 'What kind of operational exception needs a person.',
  valuesConfig: {
    OVERSOLD: { description: 'An offline store sale took units that were promised to online orders (or were not on hand).' },
    ACK_WINDOW_MISSED: { description: 'A marketplace order was not acknowledged to the marketplace within its acknowledgement window.' },
    REROUTE_FAILED: { description: 'A location could not pick lines of an order and no other location could take them: the order waits for customer service.' },
  },
});

export const ExceptionStatus: { readonly [K in ExceptionStatusName]: K } = { OPEN: 'OPEN', RESOLVED: 'RESOLVED' };
registerEnumType(ExceptionStatus, { name: 'ExceptionStatus', description: 'Whether an exception still needs handling.' });

export const CompensationAction = { REROUTE: 'REROUTE', CANCEL: 'CANCEL' } as const;
registerEnumType(CompensationAction, {
  name: 'CompensationAction',
  description: 'What to do with an order to make up for an exception.',
  valuesConfig: { REROUTE: { description: 'Fulfil it from `rerouteLocation`, which has the units.' }, CANCEL: { description: 'No other location has the units: cancel it.' } },
});

@InputType('StoreTransactionLineInput')
export class StoreTransactionLineInput {
  @Field(() => String)
  sku!: string;

  @Field(() => Int, { description: '1 to 100000 units.' })
  quantity!: number;
}

@InputType('StoreTransactionInput')
export class StoreTransactionInput {
  @Field(() => String, { description: "The till's own id for the transaction, 1 to 100 characters: applied once under it, however often sent." })
  id!: string;

  @Field(() => DateTimeScalar, { description: 'When it happened at the till (not in the future): the batch applies in this order, ties by id.' })
  /** The scalar parses a variable to a Date. */
  occurredAt!: Date | string;

  @Field(() => StoreTransactionKind, { defaultValue: 'SALE' })
  kind!: StoreTransactionKindName;

  @Field(() => [StoreTransactionLineInput], { description: '1 to 100 lines.' })
  lines!: StoreTransactionLineInput[];
}

@InputType('SyncStoreTransactionsInput')
export class SyncStoreTransactionsInput {
  @Field(() => ID, { description: 'The store the transactions happened at (a store associate: their own).' })
  locationId!: string;

  @Field(() => [StoreTransactionInput], { description: '1 to 500 transactions, in any order.' })
  transactions!: StoreTransactionInput[];
}

@ObjectType('OversoldLine', { description: 'A line of a sale that took units no longer sellable.' })
export class OversoldLine {
  @Field(() => String)
  sku!: string;

  @Field(() => Int, { description: 'Units of the line that were not sellable when it was synced.' })
  shortfall!: number;

  @Field(() => ID, { description: 'The OVERSOLD exception it raised (see `exceptions`).' })
  exceptionId!: string;
}

@ObjectType('StoreTransactionResult')
export class StoreTransactionResult {
  @Field(() => String)
  id!: string;

  @Field(() => DateTimeScalar)
  occurredAt!: string;

  @Field(() => StoreTransactionStatus)
  status!: StoreTransactionStatusName;

  @Field(() => [OversoldLine], { description: 'Lines this sync found oversold (none on a DUPLICATE: the first sync raised them).' })
  oversold!: OversoldLine[];
}

@ObjectType('SyncStoreTransactionsPayload')
export class SyncStoreTransactionsPayload {
  @Field(() => [StoreTransactionResult], { description: 'One per transaction, in the order applied; empty when userErrors refused the batch (nothing applied).' })
  results!: StoreTransactionResult[];

  @Field(() => [UserError])
  userErrors!: UserError[];
}

/** Owned by the orders subgraph; a proposal only names the order and lets the gateway fetch the rest there. */
@Directive('@key(fields: "id", resolvable: false)')
@ObjectType('Order')
export class OrderRef {
  @Field(() => ID)
  id!: string;
}

@ObjectType('CompensationProposal', { description: 'What to do with one open online order to make up for an exception.' })
export class CompensationProposal {
  @Field(() => OrderRef)
  order!: OrderRef;

  @Field(() => String)
  orderNumber!: string;

  @Field(() => Int, { description: "Units of the exception's SKU the order holds at the location." })
  quantity!: number;

  @Field(() => CompensationAction)
  action!: keyof typeof CompensationAction;

  /** Resolved by OperationalExceptionResolver. */
  rerouteLocationId!: string | null;
}

@ObjectType('OperationalException', { description: 'A business exception that needs a person (one register for every kind), with the compensation proposed.' })
export class OperationalException {
  @Field(() => ID)
  id!: string;

  @Field(() => ExceptionKind)
  kind!: ExceptionKindName;

  @Field(() => ExceptionStatus)
  status!: ExceptionStatusName;

  /** Resolved by OperationalExceptionResolver. */
  locationId!: string;

  @Field(() => String, { nullable: true, description: 'The SKU (OVERSOLD; REROUTE_FAILED: the first short line); null on exceptions about a whole order.' })
  sku!: string | null;

  @Field(() => String, { nullable: true, description: "The transaction that raised it (the till's id, for OVERSOLD); null on order exceptions." })
  transactionId!: string | null;

  @Field(() => Int, { nullable: true, description: 'Units the transaction moved (OVERSOLD).' })
  quantity!: number | null;

  @Field(() => Int, { nullable: true, description: 'Units that were not sellable (promised to orders or carts, damaged, or not there) (OVERSOLD).' })
  shortfall!: number | null;

  @Field(() => Int, { nullable: true, description: 'Units not even on hand: on hand stopped at 0 (the count was wrong) (OVERSOLD).' })
  onHandShortfall!: number | null;

  @Field(() => OrderRef, { nullable: true, description: 'The order it is about (ACK_WINDOW_MISSED, REROUTE_FAILED).' })
  order!: OrderRef | null;

  @Field(() => String, { nullable: true, description: 'What a person needs to know, in a sentence.' })
  detail!: string | null;

  @Field(() => DateTimeScalar, { description: "When what raised it happened (the till's time, the window's end, the shortage's report)." })
  occurredAt!: string;

  @Field(() => DateTimeScalar, { description: 'When it was raised (the sync).' })
  raisedAt!: string;

  @Field(() => [CompensationProposal], { description: 'Newest order first, until they hold the shortfall; empty when no online order holds the SKU there.' })
  proposal!: CompensationProposal[];
}
