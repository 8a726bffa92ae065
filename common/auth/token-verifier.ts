/**
 * Bearer tokens in, principals out. The identity provider's keys come from its JWKS; a verified token is kept
 * until its `exp` so that a client sending the same token on every request pays for one signature check, not one
 * per request.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { ANONYMOUS, DEFAULT_CLAIM_NAMES, principalFromClaims, type ClaimNames, type Principal } from './principal.js';

export interface TokenVerifierOptions {
  /** The identity provider's JWKS. Fetched on first use, kept, and fetched again when a token names an unknown `kid`, so keys can rotate. */
  jwksUrl: string;
  /** The `iss` every token must carry. */
  issuer: string;
  /** The `aud` every token must carry (or include). */
  audience: string;
  /** Skew allowed between our clock and the provider's when checking `exp` and `nbf`, in seconds. @default 30 */
  clockToleranceSeconds?: number;
  /** Least time between two JWKS fetches (jose's `cooldownDuration`): a flood of unknown `kid`s costs one fetch per period. @default 30000 */
  jwksCooldownMs?: number;
  /** How long a fetched JWKS is used before it is fetched again regardless (jose's `cacheMaxAge`). @default 600000 */
  jwksCacheMaxAgeMs?: number;
  /** How long one JWKS fetch may take before the provider counts as unavailable (jose's `timeoutDuration`). @default 5000 */
  jwksTimeoutMs?: number;
  /** Which claims carry the role and the store's location. @default DEFAULT_CLAIM_NAMES */
  claimNames?: ClaimNames;
  /** Verified tokens kept at most; the oldest is dropped to make room. @default 10000 */
  cacheSize?: number;
  /** The clock, in ms since the epoch: decides when a kept token has expired, and is the time jose checks `exp`/`nbf` against. @default Date.now */
  now?: () => number;
}

export type Authentication =
  | { ok: true; principal: Principal }
  /** A token was sent but cannot be trusted: malformed, expired, tampered, another issuer or audience, a refused algorithm. */
  | { ok: false; status: 401; code: 'UNAUTHENTICATED'; message: string }
  /** The identity provider's keys could not be fetched, so no token can be checked (nor refused) right now. */
  | { ok: false; status: 503; code: 'AUTH_UNAVAILABLE'; message: string };

export interface TokenVerifier {
  /** `authorization` is the raw Authorization header value (or connection_init's `authorization`). */
  authenticate(authorization: string | undefined | null): Promise<Authentication>;
}

/**
 * Asymmetric algorithms only: with a symmetric one allowed, anybody holding the provider's public key (everybody)
 * could sign an HS256 token with it; and `none` is no signature at all.
 */
const ALGORITHMS = ['RS256', 'ES256'];

const ANONYMOUS_RESULT: Authentication = Object.freeze({ ok: true, principal: ANONYMOUS });

/** RFC 6750's b64token, which every compact JWS is. */
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Thrown by our key resolver so that "the provider is down" can be told apart from "the token is bad". */
class JwksUnavailable extends Error {}

interface CachedToken {
  result: Authentication & { ok: true };
  expiresAt: number;
}

function unauthenticated(message: string): Authentication {
  return { ok: false, status: 401, code: 'UNAUTHENTICATED', message };
}

const UNAVAILABLE: Authentication = Object.freeze({
  ok: false,
  status: 503,
  code: 'AUTH_UNAVAILABLE',
  message: "the identity provider's signing keys could not be fetched; try again shortly",
});

/** Why jose refused a token, in words a client can act on; never the token or its claims' values. */
function refusal(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return 'the token was not issued by the expected identity provider (iss)';
      case 'aud':
        return 'the token was not issued for this API (aud)';
      case 'nbf':
        return 'the token is not valid yet (nbf)';
      case 'exp':
        return error.reason === 'missing' ? 'the token has no expiry (exp)' : 'the token has an invalid expiry (exp)';
      case 'sub':
        return error.reason === 'missing' ? 'the token has no subject (sub)' : 'the token has an invalid subject (sub)';
      default:
        return `the token's ${error.claim} claim is invalid`;
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the token's signature does not verify";
  if (error instanceof errors.JOSEAlgNotAllowed) return `the token's signing algorithm is not allowed (only ${ALGORITHMS.join(' or ')})`;
  if (error instanceof errors.JWKSNoMatchingKey) return 'the token was signed with a key the identity provider does not publish (kid)';
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'the token does not name its signing key (kid) and the identity provider publishes several';
  if (error instanceof errors.JWSInvalid) return 'the token is not a well-formed signed JWT';
  if (error instanceof errors.JWTInvalid) return "the token's claims are not a valid JWT claims set";
  if (error instanceof errors.JOSENotSupported) return 'the token uses an unsupported algorithm or key type';
  return 'the token could not be verified';
}

/**
 * Whether a failure of the key lookup means the provider could not be reached (or answered nonsense) rather than
 * the token naming a key it does not publish.
 */
function isFetchFailure(error: unknown): boolean {
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return false;
  if (error instanceof errors.JOSENotSupported) return false;
  // jose's own fetch errors: JWKSTimeout, a non-200 answer or unparseable JSON (plain JOSEError), a body that is no JWKS.
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return true;
  if (error instanceof errors.JOSEError) return error.code === errors.JOSEError.code;
  // fetch itself rejects with a TypeError (refused, reset, DNS) that jose passes through.
  return true;
}

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const now = options.now ?? Date.now;
  const claimNames = options.claimNames ?? DEFAULT_CLAIM_NAMES;
  const cacheSize = options.cacheSize ?? 10_000;
  const clockTolerance = options.clockToleranceSeconds ?? 30;
  const remote = createRemoteJWKSet(new URL(options.jwksUrl), {
    cooldownDuration: options.jwksCooldownMs ?? 30_000,
    cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
    timeoutDuration: options.jwksTimeoutMs ?? 5_000,
  });
  const keys: JWTVerifyGetKey = async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      throw isFetchFailure(error) ? new JwksUnavailable('JWKS fetch failed', { cause: error }) : error;
    }
  };

  // Insertion order is age order, so the first key is the oldest entry.
  const verified = new Map<string, CachedToken>();
  const inFlight = new Map<string, Promise<Authentication>>();

  function remember(token: string, result: Authentication & { ok: true }): void {
    if (result.principal.kind === 'anonymous') return;
    const expiresAt = result.principal.expiresAt;
    if (expiresAt <= now() || cacheSize <= 0) return;
    while (verified.size >= cacheSize) {
      const oldest = verified.keys().next();
      if (oldest.done) break;
      verified.delete(oldest.value);
    }
    verified.set(token, { result, expiresAt });
  }

  async function verify(token: string): Promise<Authentication> {
    let claims: Record<string, unknown>;
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: ALGORITHMS,
        clockTolerance,
        requiredClaims: ['exp', 'sub'],
        currentDate: new Date(now()),
      });
      claims = payload as Record<string, unknown>;
    } catch (error) {
      if (error instanceof JwksUnavailable) return UNAVAILABLE;
      return unauthenticated(refusal(error));
    }
    const principal = principalFromClaims(claims, claimNames);
    if (typeof principal === 'string') return unauthenticated(principal);
    // Frozen: one cached result is handed to every request that sends this token.
    const result = Object.freeze({ ok: true as const, principal: Object.freeze(principal) });
    remember(token, result);
    return result;
  }

  return {
    authenticate(authorization) {
      if (authorization === undefined || authorization === null) return Promise.resolve(ANONYMOUS_RESULT);
      if (typeof authorization !== 'string') return Promise.resolve(unauthenticated('the authorization must be a string "Bearer <token>"'));
      // Every request pays for this line: a token verified before is looked up before any parsing.
      const quick = authorization.length > 7 && authorization.charCodeAt(6) === 32 ? verified.get(authorization.slice(7)) : undefined;
      if (quick && quick.expiresAt > now() && /^bearer$/i.test(authorization.slice(0, 6))) return Promise.resolve(quick.result);

      const value = authorization.trim();
      if (value === '') return Promise.resolve(ANONYMOUS_RESULT);
      const token = BEARER.exec(value)?.[1];
      if (!token) {
        const scheme = /^bearer(\s|$)/i.test(value) ? 'a Bearer authorization needs one token after the scheme' : 'the authorization must use the Bearer scheme ("Bearer <token>")';
        return Promise.resolve(unauthenticated(scheme));
      }

      const cached = verified.get(token);
      if (cached) {
        if (cached.expiresAt > now()) return Promise.resolve(cached.result);
        // Past its exp: forget it and verify again, which refuses it (or accepts it within the clock tolerance).
        verified.delete(token);
      }
      const pending = inFlight.get(token);
      if (pending) return pending;
      const started = verify(token).finally(() => inFlight.delete(token));
      inFlight.set(token, started);
      return started;
    },
  };
}
