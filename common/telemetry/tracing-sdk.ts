import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ParentBasedSampler, SimpleSpanProcessor, TraceIdRatioBasedSampler, type SpanExporter } from '@opentelemetry/sdk-trace-base';

/*
 * The OpenTelemetry Node SDK, loaded only by a process that exports spans (its exporters weigh several MB of modules).
 */

export interface TracingOptions {
  /** This process's `service.name`. */
  serviceName: string;
  /** OTLP/HTTP collector base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`); spans go to `<endpoint>/v1/traces`. */
  otlpEndpoint?: string | undefined;
  /** An exporter of one's own instead of OTLP (tests: an in-memory exporter), each span exported when it ends. */
  exporter?: SpanExporter | undefined;
  /** Share of new traces sampled; a caller's sampled trace is always followed. @default 1 */
  sampleRatio?: number | undefined;
}

export interface Tracing {
  /** Flush what is buffered and stop. */
  stop(): Promise<void>;
}

/** Start tracing when there is somewhere to send spans; otherwise nothing (spans stay non-recording). */
export function startTracing(options: TracingOptions): Tracing {
  const exporter = options.exporter ?? (options.otlpEndpoint ? new OTLPTraceExporter({ url: `${options.otlpEndpoint.replace(/\/$/, '')}/v1/traces` }) : undefined);
  if (!exporter) return { stop: async () => undefined };
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    // No cloud or host probes: a retailer's gateway does not reach metadata endpoints it was not told about.
    autoDetectResources: false,
    // Traces only: metrics are Prometheus's (/metrics), logs are pino's.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
    textMapPropagator: new W3CTraceContextPropagator(),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio ?? 1) }),
    // A test's exporter sees each span as it ends; OTLP gets batches.
    ...(options.exporter ? { spanProcessors: [new SimpleSpanProcessor(exporter)] } : { traceExporter: exporter }),
  });
  sdk.start();
  return {
    async stop() {
      await sdk.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

