import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from '../../../common/graphql-types.js';
import type { CanonicalEvent } from '../../../common/events.js';
import type { OrderMarketplaceRecord } from '../../../common/systems/records.js';

export type MarketplaceAcknowledgementCode = 'PENDING' | 'ACKNOWLEDGED' | 'LATE' | 'MISSED';
export const MarketplaceAcknowledgement: { readonly [K in MarketplaceAcknowledgementCode]: K } = { PENDING: 'PENDING', ACKNOWLEDGED: 'ACKNOWLEDGED', LATE: 'LATE', MISSED: 'MISSED' };
registerEnumType(MarketplaceAcknowledgement, {
  name: 'MarketplaceAcknowledgement',
  description: 'PENDING: within its window, not yet told; ACKNOWLEDGED: told in time; LATE: told after the window; MISSED: the window passed and the marketplace is not told yet.',
});

@ObjectType('MarketplaceOrder', { description: 'Where a marketplace order came from, and what the marketplace was told.' })
export class MarketplaceOrder {
  @Field(() => String, { description: 'The marketplace, e.g. "MEGAMART".' })
  marketplace!: string;

  @Field(() => String, { description: 'The order\'s id at the marketplace.' })
  externalOrderId!: string;

  @Field(() => DateTimeScalar, { description: 'When our webhook accepted the marketplace\'s notification.' })
  receivedAt!: string;

  @Field(() => DateTimeScalar, { description: 'The end of its acknowledgement window (MARKETPLACE_ACK_WINDOW_MS after receivedAt).' })
  acknowledgeBy!: string;

  @Field(() => MarketplaceAcknowledgement)
  acknowledgement!: MarketplaceAcknowledgementCode;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the acknowledgement went out; null until it has.' })
  acknowledgedAt!: string | null;
}

/** The order's marketplace side, from its record and its events (the timeline's, so no other call). */
export function toMarketplaceOrder(source: OrderMarketplaceRecord, events: readonly CanonicalEvent[], now: Date): MarketplaceOrder {
  const ack = events.find((e) => e.type === 'MARKETPLACE_ORDER_ACKNOWLEDGED');
  const late = ack?.type === 'MARKETPLACE_ORDER_ACKNOWLEDGED' && ack.data.late;
  const acknowledgement: MarketplaceAcknowledgementCode = ack ? (late ? 'LATE' : 'ACKNOWLEDGED') : now.getTime() > Date.parse(source.acknowledgeBy) ? 'MISSED' : 'PENDING';
  return Object.assign(new MarketplaceOrder(), {
    marketplace: source.name,
    externalOrderId: source.externalOrderId,
    receivedAt: source.receivedAt,
    acknowledgeBy: source.acknowledgeBy,
    acknowledgement,
    acknowledgedAt: ack?.occurredAt ?? null,
  });
}
