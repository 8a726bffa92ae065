import 'reflect-metadata';
import { DateTimeResolver } from 'graphql-scalars';
import { Directive, Field, ObjectType } from 'type-graphql';
import { formatMinor, type MoneyValue } from './money.js';

/** `DateTime` (RFC 3339), the scalar the client contract names. */
export const DateTimeScalar = DateTimeResolver;

/**
 * Money as the contract shapes it: a decimal string and an ISO 4217 code. Every subgraph that returns money
 * uses this one class, so the type is identical (and `@shareable`) wherever it appears.
 */
@Directive('@shareable')
@ObjectType('Money', { description: 'An amount of money. `amount` is a decimal string, exact to the minor unit.' })
export class Money {
  @Field(() => String, { description: 'Decimal amount, e.g. "19.99"; never a binary float.' })
  amount!: string;

  @Field(() => String, { description: 'ISO 4217 currency code.' })
  currencyCode!: string;

  static of(value: MoneyValue): Money {
    const money = new Money();
    money.amount = formatMinor(value.minor, value.currency);
    money.currencyCode = value.currency;
    return money;
  }
}

/** Relay-style page info (the connection spec's four fields), shared by every connection in the graph. */
@Directive('@shareable')
@ObjectType('PageInfo')
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => Boolean, { description: 'Whether items lie before this page: true when `after` named an item of the list (paging is forward only).' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: "The first edge's cursor; null on an empty page." })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: "The last edge's cursor; null on an empty page." })
  endCursor!: string | null;
}

/**
 * An expected business failure (out of stock, unknown SKU, a reused idempotency key): returned in a payload's
 * `userErrors`, never thrown. `code` is stable and machine-readable; `field` is the input path, e.g.
 * `lines.2.quantity`.
 */
@Directive('@shareable')
@ObjectType('UserError')
export class UserError {
  @Field(() => String, { nullable: true })
  field!: string | null;

  @Field(() => String)
  message!: string;

  @Field(() => String)
  code!: string;
}
