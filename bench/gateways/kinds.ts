/**
 * The gateways the side-by-side benchmark runs, each in its own child process (`gateway-process.ts`). One kind per
 * setting, so that in-flight deduplication is compared like with like (`ours` beside `hive`, `ours-nodedup` beside
 * `hive-nodedup`) and our two executors side by side (`ours`, `ours-apollo`).
 */
export const GATEWAY_KINDS = ['ours', 'ours-nodedup', 'ours-apollo', 'apollo', 'hive', 'hive-nodedup', 'hive-router', 'hive-router-nodedup'] as const;
export type GatewayKind = (typeof GATEWAY_KINDS)[number];

/** The program behind a kind: which gateway `gateway-process.ts` starts. */
export type GatewayBase = 'ours' | 'apollo' | 'hive' | 'hive-router';

export interface GatewaySetup {
  base: GatewayBase;
  label: string;
  /**
   * Whether identical in-flight subgraph requests are shared. `undefined`: the gateway has no such mechanism
   * (@apollo/gateway's data source sends every fetch).
   */
  dedup: boolean | undefined;
  /** Ours only: which executor runs the query plans (`GATEWAY_EXECUTOR`). */
  executor?: 'compiled' | 'apollo';
}

export const GATEWAYS: Record<GatewayKind, GatewaySetup> = {
  ours: { base: 'ours', label: 'ours (compiled executor)', dedup: true, executor: 'compiled' },
  'ours-nodedup': { base: 'ours', label: 'ours (compiled executor), no dedup', dedup: false, executor: 'compiled' },
  'ours-apollo': { base: 'ours', label: "ours with Apollo's executor", dedup: true, executor: 'apollo' },
  apollo: { base: 'apollo', label: '@apollo/gateway 2.14 + Apollo Server 5', dedup: undefined },
  hive: { base: 'hive', label: 'Hive Gateway (gateway-runtime)', dedup: true },
  'hive-nodedup': { base: 'hive', label: 'Hive Gateway, no dedup', dedup: false },
  'hive-router': { base: 'hive-router', label: 'Hive Gateway + router-runtime (Rust planner)', dedup: true },
  'hive-router-nodedup': { base: 'hive-router', label: 'Hive Gateway + router-runtime, no dedup', dedup: false },
};

export const isGatewayKind = (value: string): value is GatewayKind => (GATEWAY_KINDS as readonly string[]).includes(value);

/** The `dedup` column: the setting each gateway ran with. */
export function dedupLabel(kind: GatewayKind): string {
  const { dedup, base } = GATEWAYS[kind];
  if (dedup === undefined) return 'none (has none)';
  if (base === 'ours') return dedup ? 'on (GATEWAY_DEDUPLICATE=true)' : 'off (GATEWAY_DEDUPLICATE=false)';
  return dedup ? 'on (default)' : 'off (deduplicateInflightRequests: false)';
}
