import type { ErpConfig } from '../common/config.js';
import { ODataClient } from '../common/erp-odata/client.js';
import { ODataMasterDataSource } from '../common/erp-odata/master-data-source.js';
import { SandboxErpMasterDataSource } from './master-data/sandbox-source.js';
import type { MasterDataSource } from '../common/master-data/sync.js';
import type { ResilienceRegistry } from '../common/resilience.js';
import type { SandboxSystems } from '../sandbox/index.js';
import { ODataJournal } from './finance/adapters/odata-journal.js';
import { ODataLedger } from './finance/adapters/odata-ledger.js';
import { SandboxJournal } from './finance/adapters/sandbox-journal.js';
import { SandboxLedger } from './finance/adapters/sandbox-ledger.js';
import type { LedgerPort } from './finance/ports.js';
import type { JournalPort } from './finance/outbox/ports.js';

/**
 * Every port the graph reaches the ERP through, from one adapter family: the master-data change feed (the read
 * models' sync), the ledger reads and the journal writes of finance. This is the one place that picks them
 * (`ERP_ADAPTER`); a connector for another ERP is a new family here.
 */
export interface ErpAdapters {
  kind: ErpConfig['adapter'];
  masterData: MasterDataSource;
  ledger: LedgerPort;
  journal: JournalPort;
}

/** Where and as whom the OData connector talks: from ERP_URL and its credentials, or the sandbox's service. */
export interface ODataEndpoint {
  serviceUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string | undefined;
}

export function createErpAdapters(
  config: { erp: ErpConfig; adapter: { timeoutMs: number } },
  deps: { systems: SandboxSystems; resilience: ResilienceRegistry; odata?: ODataEndpoint | undefined },
): ErpAdapters {
  const { resilience } = deps;
  switch (config.erp.adapter) {
    case 'sandbox':
      return {
        kind: 'sandbox',
        masterData: new SandboxErpMasterDataSource(deps.systems.erp, resilience),
        ledger: new SandboxLedger(deps.systems.erp, resilience),
        journal: new SandboxJournal(deps.systems.erp, resilience),
      };
    case 'odata': {
      if (!deps.odata) throw new Error('ERP_ADAPTER=odata needs ERP_URL, ERP_TOKEN_URL, ERP_CLIENT_ID and ERP_CLIENT_SECRET (or a sandbox to default to)');
      // One client (one token) for every port: the ERP sees one integration user.
      const client = new ODataClient({ ...deps.odata, timeoutMs: config.adapter.timeoutMs });
      return {
        kind: 'odata',
        masterData: new ODataMasterDataSource(client, resilience, { pageSize: config.erp.pageSize }),
        ledger: new ODataLedger(client, resilience),
        journal: new ODataJournal(client, resilience),
      };
    }
  }
}
