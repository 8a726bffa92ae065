import { Arg, Ctx, Directive, Mutation, Resolver } from 'type-graphql';
import { fromOptionalGlobalId } from '../../../common/global-id.js';
import { UserError } from '../../../common/graphql-types.js';
import type { OrdersContext } from '../context.js';
import { toOrder } from '../mapping.js';
import { placeOrderObserved } from './checkout.service.js';
import { PlaceOrderInput, PlaceOrderPayload } from './place-order.js';

@Resolver()
export class PlaceOrderResolver {
  @Directive('@requiresScopes(scopes: [["shopper"], ["agent"]])')
  @Directive('@policy(policies: [["own_customer"]])')
  @Mutation(() => PlaceOrderPayload, {
    nullable: true,
    description:
      'Checkout: validate, commit stock for every line (all or nothing), authorize payment, confirm. A shopper orders for themselves (`customerId` left out means them; another id is FORBIDDEN); a service agent for any customer or a guest.',
  })
  async placeOrder(@Arg('input', () => PlaceOrderInput) input: PlaceOrderInput, @Ctx() ctx: OrdersContext): Promise<PlaceOrderPayload> {
    const outcome = await placeOrderObserved({ ...ctx.checkout, loadOrder: (id) => ctx.loaders.order.load(id) }, ctx.scope, {
      ...input,
      // Decoded before anything else, so that the idempotency record sees one input whichever id form was sent.
      customerId: fromOptionalGlobalId('Customer', input.customerId),
      pickupLocationId: fromOptionalGlobalId('Location', input.pickupLocationId),
      lines: input.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
      shippingAddress: input.shippingAddress ? { country: input.shippingAddress.country, postalCode: input.shippingAddress.postalCode, city: input.shippingAddress.city, line1: input.shippingAddress.line1 } : null,
    });
    return Object.assign(new PlaceOrderPayload(), {
      order: outcome.order ? toOrder(outcome.order) : null,
      userErrors: outcome.userErrors.map((e) => Object.assign(new UserError(), e)),
    });
  }
}
