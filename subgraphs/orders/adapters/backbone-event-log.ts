import { GraphQLError } from 'graphql';
import type { EventBackbone } from '../../../common/events.js';
import type { OrderEventLogPort } from '../ports.js';

/**
 * The order event log over the event backbone. The backbone is not a system of record, so it has no breaker in
 * the resilience registry; a failed read is still reported with a stable code rather than as an internal error.
 */
export class BackboneOrderEventLog implements OrderEventLogPort {
  constructor(private readonly backbone: Pick<EventBackbone, 'eventsForOrders'>) {}

  async eventsForOrders(orderIds: readonly string[]) {
    try {
      return await this.backbone.eventsForOrders(orderIds);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new GraphQLError(`The event log is unavailable: ${reason}`, { extensions: { code: 'EVENTS_UNAVAILABLE', reason } });
    }
  }
}
