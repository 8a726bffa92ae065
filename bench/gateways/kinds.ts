/** The gateways the side-by-side benchmark runs, each in its own child process (`gateway-process.ts`). */
export const GATEWAY_KINDS = ['ours', 'apollo', 'hive', 'hive-router'] as const;
export type GatewayKind = (typeof GATEWAY_KINDS)[number];

export const GATEWAY_LABELS: Record<GatewayKind, string> = {
  ours: 'ours (gateway/gateway.ts)',
  apollo: '@apollo/gateway 2.14 + Apollo Server 5',
  hive: 'Hive Gateway (gateway-runtime)',
  'hive-router': 'Hive Gateway + router-runtime (Rust planner)',
};
