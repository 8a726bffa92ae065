import { contractOperation } from './contract.js';
import { pollUntil } from './poll.js';
import { AGENT, type TestStack } from './stack.js';

const STATUS = '{ systemStatus { systems { system state detail } } }';

interface SystemHealth {
  system: string;
  state: 'UP' | 'DEGRADED' | 'DOWN';
  detail: string | null;
}

/**
 * After a test cleared its sandbox faults: call every system of record through the graph until every circuit breaker
 * is closed again with no failure counted (`systemStatus` all UP), so that the next step or test starts from healthy
 * systems. This replaces sleeping past BREAKER_RESET_MS: an open breaker leaves `open` only on the first call after
 * its reset time (the trial), so time alone closes nothing, and the probes here are those calls.
 *
 * The probes: OrderTimeline of a shipped and returned web order (ecom, CRM, PSP, ERP, WMS) and a ProductPage with
 * store and warehouse stock (POS, WMS). The ERP may stay DEGRADED for the master-data sync's own failures (it polls
 * on its own schedule, once a minute in tests), which says nothing about the ERP's breaker: accepted.
 */
export async function untilSystemsUp(stack: TestStack, ms = 10_000): Promise<SystemHealth[]> {
  const order = stack.sandbox.data.orders.find((o) => o.channel === 'WEB' && o.deliveryMethod === 'SHIPPING' && o.status === 'RETURNED' && o.customerId);
  if (!order) throw new Error('the seed has no returned web order to probe the systems with');
  const probes = async () => {
    await stack.queryAs(AGENT, contractOperation('OrderTimeline'), { orderId: order.id });
    await stack.query(contractOperation('ProductPage'), { id: 'prod-0001', locationIds: ['store-001', 'wh-01'] });
    const { body } = await stack.queryAs(AGENT, STATUS);
    return ((body.data as { systemStatus?: { systems?: SystemHealth[] } } | null | undefined)?.systemStatus?.systems ?? []) as SystemHealth[];
  };
  const healthy = (s: SystemHealth) => s.state === 'UP' || (s.system === 'erp' && s.state === 'DEGRADED' && (s.detail ?? '').startsWith('master-data sync'));
  return pollUntil(probes, (systems) => systems.length > 0 && systems.every(healthy), 'every system of record UP again', ms, 50);
}
