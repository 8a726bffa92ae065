import { fromGlobalId } from '../../common/global-id.js';
import { Location } from './location.js';

/** Inventory owns locations; any id is a key this subgraph can hang `pickupQueue` on, so no lookup is needed. */
export function resolveLocationReference(reference: { id: string }): Location {
  return Location.ref(fromGlobalId('Location', reference.id));
}
