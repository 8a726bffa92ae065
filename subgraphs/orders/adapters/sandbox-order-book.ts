import type { ResilienceRegistry } from '../../../common/resilience.js';
import type { SandboxEcom } from '../../../sandbox/ecom.js';
import type { SandboxPos } from '../../../sandbox/pos.js';
import type { OrderBookPort, OrderSystem } from '../ports.js';
import { toOrderReturn, toSalesOrder } from './sandbox-records.js';

/** The order-book methods the sandbox POS and e-commerce systems have in common. */
type SandboxOrderSystem = Pick<SandboxPos & SandboxEcom, 'getOrders' | 'getOrdersByNumber' | 'getOrdersByCustomer' | 'getReturnsByOrder'>;

/** An order book over the sandbox POS or e-commerce system (in process or over HTTP): one call per port call. */
export class SandboxOrderBook implements OrderBookPort {
  private readonly system: SandboxOrderSystem;
  constructor(name: OrderSystem, system: SandboxOrderSystem, resilience: ResilienceRegistry) {
    this.system = resilience.wrap(name, system);
  }

  async getOrders(ids: readonly string[]) {
    return (await this.system.getOrders(ids)).map((o) => (o ? toSalesOrder(o) : null));
  }

  async getOrdersByNumber(numbers: readonly string[]) {
    return (await this.system.getOrdersByNumber(numbers)).map((o) => (o ? toSalesOrder(o) : null));
  }

  async getOrdersByCustomer(customerIds: readonly string[]) {
    return (await this.system.getOrdersByCustomer(customerIds)).map((list) => list.map(toSalesOrder));
  }

  async getReturnsByOrder(orderIds: readonly string[]) {
    return (await this.system.getReturnsByOrder(orderIds)).map((list) => list.map(toOrderReturn));
  }
}
