import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span } from '@opentelemetry/api';
import { currentCorrelationId } from '../correlation.js';

/*
 * Traces through @opentelemetry/api: with no SDK started (the default, OTEL_EXPORTER_OTLP_ENDPOINT unset) every span
 * here is the API's non-recording span, which costs a few allocations. `startTracing` (tracing-sdk.ts, loaded only
 * then) starts the Node SDK, which also installs the async context manager and the W3C trace-context propagator.
 */

const TRACER = 'retail-supergraph';

/** The span attribute every span carries: the request's correlation id (`x-correlation-id`). */
export const CORRELATION_ATTRIBUTE = 'retail.correlation_id';

const tracer = () => trace.getTracer(TRACER);

export interface SpanOptions {
  kind?: SpanKind | undefined;
  attributes?: Attributes | undefined;
  links?: Link[] | undefined;
  /** The parent, when not the active context (a request's extracted `traceparent`). */
  parent?: Context | undefined;
}

/**
 * Run `fn` in a new span, active for what it awaits; the span ends with `fn`, in error when `fn` throws. Every span
 * carries the correlation id.
 */
export async function inSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const correlationId = currentCorrelationId();
  const attributes = correlationId ? { [CORRELATION_ATTRIBUTE]: correlationId, ...options.attributes } : options.attributes;
  return tracer().startActiveSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes, links: options.links }, options.parent ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Mark a span failed without an exception (an answer with errors). */
export function failSpan(span: Span, message: string): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/** The trace context of a request's headers (`traceparent`, `tracestate`); the root context without one. */
export function contextFromHeaders(headers: Record<string, string | string[] | undefined>): Context {
  return propagation.extract(ROOT_CONTEXT, headers);
}

/** The active trace context as W3C headers (empty when no span is active or tracing is off). */
export function traceHeaders(active: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(active, carrier);
  return carrier;
}

/** `traceparent` of a span, for a response header (undefined for a non-recording span with no trace). */
export function traceparentOf(span: Span): string | undefined {
  const { traceId, spanId, traceFlags } = span.spanContext();
  if (!trace.isSpanContextValid(span.spanContext())) return undefined;
  return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`;
}

/** A link to the trace an event was made in (its `trace` headers), for the span of whoever handles it later. */
export function linkTo(headers: Record<string, string> | undefined): Link[] {
  if (!headers?.traceparent) return [];
  const spanContext = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, headers));
  return spanContext && trace.isSpanContextValid(spanContext) ? [{ context: spanContext }] : [];
}

export { SpanKind };
