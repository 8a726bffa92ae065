import { registerEnumType } from 'type-graphql';
import type { SalesChannel } from '../../common/channels/channel-allocation-rule.js';

/** The orders subgraph's `Channel`, value for value (composition merges the two): what `availability` is asked for. */
export const Channel: { readonly [K in SalesChannel]: K } = { WEB: 'WEB', MOBILE: 'MOBILE', STORE: 'STORE', MARKETPLACE: 'MARKETPLACE', CALL_CENTER: 'CALL_CENTER' };
export type Channel = SalesChannel;

registerEnumType(Channel, { name: 'Channel', description: 'Where the order was taken.' });
