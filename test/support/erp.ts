/**
 * The ERP adapter families the acceptance tests run against: the sandbox ERP's own API, and the OData v4 connector
 * talking to the sandbox's OData service. A test suite that holds for one must hold for the other.
 */
export const ERP_ADAPTERS = ['sandbox', 'odata'] as const;
export type ErpAdapterName = (typeof ERP_ADAPTERS)[number];

/** The environment a test stack takes to run with `adapter`. */
export const erpEnv = (adapter: ErpAdapterName): Record<string, string> => ({ ERP_ADAPTER: adapter });
