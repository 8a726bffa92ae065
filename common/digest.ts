import { createHash } from 'node:crypto';

/**
 * A short URL-safe name for `text`, for ids and references derived from it: the same text always gives the same
 * name (so a repeat says the same id), and nothing of the text shows through. SHA-256 in base64url, cut to `length`
 * characters (22: 132 bits).
 */
export const shortDigest = (text: string, length = 22): string => createHash('sha256').update(text).digest('base64url').slice(0, length);
