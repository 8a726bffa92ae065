import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOT_RUN_CASES_3 } from './support/audit-ported-3.js';
import { AUDIT_SUITES, type AuditCase, type AuditSuite } from './support/audit-suites.js';
import { startFederation, type ExecutorName, type Federation } from './support/federation.js';

/**
 * The public federation gateway audit (graphql-hive/federation-gateway-audit), reproduced with subgraphs of our
 * own (test/support/audit-suites.ts, audit-ported.ts): each case through the real gateway, over real HTTP, with both
 * executors. The audit's own check: `data` equal (absent counts as null, and a case that names no data expects
 * null), and whether there are errors only when the case says (`errors: true | false`).
 */
function expectAuditResult(body: { data?: unknown; errors?: unknown[] }, expected: AuditCase['expected']): void {
  const errorsChecked = typeof expected.errors === 'boolean';
  const received = { data: body.data ?? null, errors: errorsChecked ? (body.errors?.length ?? 0) > 0 : null };
  expect(received).toEqual({ data: expected.data ?? null, errors: errorsChecked ? expected.errors : null });
}

const EXECUTORS: ExecutorName[] = ['compiled', 'apollo'];

function describeSuite(suite: AuditSuite): void {
  describe(suite.name, () => {
    let federation: Federation;
    beforeAll(async () => {
      federation = await startFederation(suite.subgraphs);
    });
    afterAll(async () => {
      await federation?.stop();
    });
    // Cases refused at validation: GraphQL over HTTP answers those 400, which the audit's check (errors, no data) accepts.
    const refusedAtValidation = NOT_RUN_CASES_3.filter((c) => c.suite === suite.name && c.why.startsWith('validation error')).map((c) => c.auditCase);
    for (const executor of EXECUTORS) {
      for (const auditCase of [...suite.cases, ...refusedAtValidation]) {
        if (executor === 'apollo' && auditCase.apolloWrong) continue;
        it(`${executor}: ${auditCase.name}`, async () => {
          const response = await federation.query(executor, auditCase.query, auditCase.variables);
          expect(response.status).toBe(auditCase.expected.errors === true && response.status === 400 ? 400 : 200);
          expectAuditResult(response.body, auditCase.expected);
        });
      }
    }
  });
}

for (const suite of AUDIT_SUITES) describeSuite(suite);
