import { retryDelayMs } from '../common/backoff.js';
import { signMarketplaceBody, MARKETPLACE_SIGNATURE_HEADER } from '../common/systems/marketplace.js';
import type { MarketplaceOrderNotification } from '../common/systems/marketplace.js';

/** What one delivery ended with: the seller's last status and answer, and how many posts it took. */
export interface Delivery {
  status: number;
  body: unknown;
  attempts: number;
}

export interface DeliveryOptions {
  /** The most posts of one notification. @default 8 */
  maxAttempts?: number | undefined;
  /** The first wait between posts, in ms (then exponential, jittered). @default 50 */
  baseMs?: number | undefined;
  /** The longest wait, in ms. @default 2 000 */
  capMs?: number | undefined;
}

/**
 * The marketplace's side of its webhook: post one notification, signed (`x-marketplace-signature`), and post it again
 * while the seller answers anything but a 2xx or a refusal for good (400, 401), as a marketplace does: at least once.
 * Which of several notifications arrives first is up to the caller (the sandbox promises no order).
 */
export async function deliverNotification(url: string, secret: string, notification: MarketplaceOrderNotification, options: DeliveryOptions = {}): Promise<Delivery> {
  const body = JSON.stringify(notification);
  const maxAttempts = options.maxAttempts ?? 8;
  let last: Delivery = { status: 0, body: null, attempts: 0 };
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    try {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', [MARKETPLACE_SIGNATURE_HEADER]: signMarketplaceBody(secret, body) }, body });
      last = { status: response.status, body: await response.json().catch(() => null), attempts: attempt };
      if (response.ok || response.status === 400 || response.status === 401) return last;
    } catch (error) {
      last = { status: 0, body: { error: (error as Error).message }, attempts: attempt };
    }
    if (attempt < maxAttempts) await new Promise((resolve) => setTimeout(resolve, retryDelayMs(attempt, options.baseMs ?? 50, options.capMs ?? 2_000)));
  }
  return last;
}
