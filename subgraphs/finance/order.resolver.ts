import { Ctx, Directive, FieldResolver, ID, Resolver, Root } from 'type-graphql';
import { toGlobalId } from '../../common/global-id.js';
import type { FinanceContext } from './context.js';
import { ErpPosting } from './erp-posting.js';
import { deriveFinancialStatus } from './financial-status.js';
import { Invoice } from './invoice.js';
import { toErpPosting, toInvoice, toPayment, toRefund } from './mapping.js';
import { FinancialStatus, Order } from './order.js';
import { Payment } from './payment.js';
import { Refund } from './refund.js';

/*
 * Every field is nullable: each comes from one system (PSP or ERP), so an outage of that system nulls just
 * its fields, with the located error the adapter throws, and the rest of the order still resolves.
 *
 * The money of an order is for its customer, service agents and finance; the ERP postings for agents and finance.
 * Which orders a shopper reaches is the reference resolver's row rule.
 */
const MONEY_READERS = '@requiresScopes(scopes: [["shopper"], ["agent"], ["finance"]])';
@Resolver(() => Order)
export class OrderResolver {
  /** The object keeps its native id; only the GraphQL field answers the global one. */
  @FieldResolver(() => ID)
  id(@Root() order: Order): string {
    return toGlobalId('Order', order.id);
  }

  @Directive(MONEY_READERS)
  @FieldResolver(() => [Payment], { nullable: true, description: 'Payments at the PSP; null when the PSP is unavailable.' })
  async payments(@Root() order: Order, @Ctx() ctx: FinanceContext): Promise<Payment[]> {
    return (await ctx.loaders.paymentsByOrder.load(order.id)).map(toPayment);
  }

  @Directive(MONEY_READERS)
  @FieldResolver(() => [Refund], { nullable: true, description: 'Refunds at the PSP; null when the PSP is unavailable.' })
  async refunds(@Root() order: Order, @Ctx() ctx: FinanceContext): Promise<Refund[]> {
    return (await ctx.loaders.refundsByOrder.load(order.id)).map(toRefund);
  }

  @Directive(MONEY_READERS)
  @FieldResolver(() => FinancialStatus, { nullable: true, description: 'Derived from the PSP payments and refunds; null when the PSP is unavailable.' })
  async financialStatus(@Root() order: Order, @Ctx() ctx: FinanceContext): Promise<FinancialStatus> {
    // Same loaders as `payments` and `refunds`: asking for all three costs no extra PSP call.
    const [payments, refunds] = await Promise.all([ctx.loaders.paymentsByOrder.load(order.id), ctx.loaders.refundsByOrder.load(order.id)]);
    return deriveFinancialStatus(payments, refunds);
  }

  @Directive(MONEY_READERS)
  @FieldResolver(() => [Invoice], { nullable: true, description: 'Invoices the ERP issued; null when the ERP is unavailable.' })
  async invoices(@Root() order: Order, @Ctx() ctx: FinanceContext): Promise<Invoice[]> {
    return (await ctx.loaders.invoicesByOrder.load(order.id)).map(toInvoice);
  }

  @Directive('@requiresScopes(scopes: [["agent"], ["finance"]])')
  @FieldResolver(() => [ErpPosting], { nullable: true, description: 'Journal postings to the ERP: what the ERP holds merged with what the outbox is booking (PENDING, FAILED, DEAD_LETTER), one per posting id; null when the ERP is unavailable.' })
  async erpPostings(@Root() order: Order, @Ctx() ctx: FinanceContext): Promise<ErpPosting[]> {
    return (await ctx.loaders.postingsByOrder.load(order.id)).map(toErpPosting);
  }
}
