import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import type { ScopedContext } from './http.js';

/*
 * Production error masking. A client needs to know what kind of failure it hit (the code), what to tell its user
 * (the message) and what to quote to support (the correlation id); it must not learn which service failed, why
 * inside, or a stack. Codes a client acts on keep their message, which this project writes for clients; a system
 * outage keeps only which system, in a fixed sentence; anything else becomes "Internal server error".
 */

/** Codes whose messages are written for the caller (bad input, authorization, limits, protocol). */
const CLIENT_CODES = new Set([
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'PERSISTED_DOCUMENT_NOT_FOUND',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'QUERY_TOO_DEEP',
  'TOO_MANY_ALIASES',
  'TOO_MANY_FIELDS',
  'TOO_MANY_TOKENS',
  'QUERY_TOO_COMPLEX',
  'TOO_MANY_OPERATIONS',
  'DOCUMENT_NOT_TRUSTED',
  'RATE_LIMITED',
  'SUBSCRIPTION_OVERFLOW',
  'RESUME_TOO_OLD',
]);

const UNAVAILABLE = /^([A-Z]+)_UNAVAILABLE$/;

/** One error as production shows it: message, where, code and correlation id; nothing else. */
export function maskError(error: GraphQLFormattedError, correlationId: string): GraphQLFormattedError {
  const raw = error.extensions?.code;
  const code = typeof raw === 'string' ? raw : 'INTERNAL_SERVER_ERROR';
  const system = UNAVAILABLE.exec(code)?.[1];
  const message = CLIENT_CODES.has(code) ? error.message : system ? `${system} is unavailable; try again later` : 'Internal server error';
  return {
    message,
    ...(error.locations ? { locations: error.locations } : {}),
    ...(error.path ? { path: error.path } : {}),
    extensions: { code: CLIENT_CODES.has(code) || system ? code : 'INTERNAL_SERVER_ERROR', correlationId },
  };
}

/** Masks every error of every response (HTTP and in process) with {@link maskError}. */
export function maskErrorsPlugin<C extends ScopedContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, response }) {
          if (response.body.kind !== 'single' || !response.body.singleResult.errors) return;
          const correlationId = contextValue.scope.correlationId;
          response.body.singleResult.errors = response.body.singleResult.errors.map((e) => maskError(e, correlationId));
        },
      };
    },
  };
}
