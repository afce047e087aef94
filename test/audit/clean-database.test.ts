import { afterEach, expect, it } from 'vitest';
import { AUDIT_CHECKS } from '../../src/audit/checks.js';
import { executeAudit } from '../../src/audit/command.js';
import { renderTextReport } from '../../src/audit/report-text.js';
import { runAudit } from '../../src/audit/run-audit.js';
import { VERSION } from '../../src/version.js';
import { createTestTracing } from '../helpers/tracing.js';
import { auditConfig, captureIo, cleanGateway, normalizeReport } from './helpers.js';

const tracing = createTestTracing();
afterEach(() => tracing.exporter.reset());

const URL_SHOWN = 'postgres://postgres@127.0.0.1:5432/gw_dev';

// The seed report's DEV section, line for line (../shared/seed/DATABASE_CORRUPTION_CHECK.md), except CHECK 1,
// which now says what its 0 rows are worth.
const EXPECTED = `Session-Isolation Audit - Results

Date: 2025-10-28T12:00:00.000Z
Databases Checked: DEV
Window: last 24 hours
Tool: crosstalk audit ${VERSION}

Executive Summary
✅ NO ISOLATION VIOLATION FOUND
  DEV  ✅ clean (13 pass, 2 info, 1 not applicable)

========================================================================
DEV Database Results
${URL_SHOWN}
========================================================================
✅ NO ISOLATION VIOLATION FOUND
Schema: sessions (2025: one active session per API key) and routed_sessions (model-keyed pool); sessions.id is the primary key

CHECK 1: Sessions shared across multiple API keys
✅ 0 rows: no active session id carries more than one API key
⚠️  VACUOUS: sessions.id is the primary key, so GROUP BY id puts every row in a group of its own and COUNT(DISTINCT api_key_id) can never exceed 1. This check cannot fail and proves nothing; active_key_index, owner_mismatch, active_without_key and session_churn are the checks that can.

CHECK 2: Active sessions summary
Total active session rows: 2
Unique API keys:           2
Unique session IDs:        2
Unique users:              2
✅ Each session_id has exactly one row (correct)

CHECK 3: API keys with multiple active sessions
✅ Each API key has at most 1 active session (expected)

CHECK 4: Recent session creation (last 24 hours)
Sessions created (24h):    20
Unique API keys:           2
Unique users:              2

CHECK active_key_index: Partial unique index sessions_active_api_key_unique
✅ sessions_active_api_key_unique is unique on (api_key_id, is_active) WHERE (is_active IS TRUE), valid

CHECK owner_mismatch: Sessions whose user is not their API key's owner
✅ every session's user owns its API key

CHECK active_without_key: Active sessions without a live API key
✅ every active session has an active API key

CHECK stale_active: Active sessions past expires_at
✅ no active session is past its expires_at

CHECK session_churn: API keys churning sessions
✅ no API key opened more than 5 sessions within 10 minutes in the last 24 hours

CHECK routed_concurrent_requests: Routed sessions serving more than one request
✅ no routed session counts more than one request

CHECK routed_negative_requests: Routed sessions with a negative request count
✅ no routed session has a negative request count

CHECK routed_terminal_busy: Terminal routed sessions still counting requests
✅ no closed, expired or failed routed session counts a request

CHECK routed_open_expired: OPEN routed sessions past expires_at
✅ no OPEN routed session is past its expires_at

CHECK routed_model_identity: Model names and model ids that disagree
✅ every model_id has one model_name and every model_name one model_id

CHECK routed_provider_identity: Bids recorded under more than one provider
✅ every bid_id records one provider_address

CHECK routed_provider_change: Routed sessions whose provider changed since the last run
➖ NOT APPLICABLE: a change of provider_address shows only across runs: give --provider-state <file> to compare with the last run

All checks
  CHECK                       STATUS          ROWS  RESULT
  1 shared_across_keys        pass (vacuous)  0     0 rows: no active session id carries more than one API key
  2 active_summary            info            2     2 active rows, 2 API keys, 2 session ids, 2 users; each session id has exactly one row
  3 multiple_active_per_key   pass            0     each API key has at most 1 active session
  4 recent_sessions           info            20    20 sessions created in the last 24 hours by 2 API keys of 2 users
  active_key_index            pass            0     sessions_active_api_key_unique is unique on (api_key_id, is_active) WHERE (is_active IS TRUE), valid
  owner_mismatch              pass            0     every session's user owns its API key
  active_without_key          pass            0     every active session has an active API key
  stale_active                pass            0     no active session is past its expires_at
  session_churn               pass            0     no API key opened more than 5 sessions within 10 minutes in the last 24 hours
  routed_concurrent_requests  pass            0     no routed session counts more than one request
  routed_negative_requests    pass            0     no routed session has a negative request count
  routed_terminal_busy        pass            0     no closed, expired or failed routed session counts a request
  routed_open_expired         pass            0     no OPEN routed session is past its expires_at
  routed_model_identity       pass            0     every model_id has one model_name and every model_name one model_id
  routed_provider_identity    pass            0     every bid_id records one provider_address
  routed_provider_change      not applicable  -     a change of provider_address shows only across runs: give --provider-state <file> to compare with the last run

========================================================================
What We Checked
`;

it('audits a clean gateway database: exit 0, the seed report shape, CHECK 1 called vacuous', async () => {
  const db = await cleanGateway();
  const io = captureIo();
  const exitCode = await executeAudit(auditConfig([{ label: 'dev', url: db.url }]), tracing.tracer, io);
  expect(exitCode).toBe(0);
  expect(io.err()).toBe('');
  expect(io.out()).toContain('✅ NO ISOLATION VIOLATION FOUND');

  const report = await runAudit({ ...auditConfig([{ label: 'dev', url: db.url }]), tracer: tracing.tracer });
  const text = renderTextReport(normalizeReport(report, { dev: URL_SHOWN }));
  const [head, whatWeChecked = ''] = text.split('What We Checked\n');
  expect(`${head}What We Checked\n`).toBe(EXPECTED);
  // "What we checked" lists every query verbatim, with its parameters, then the exit code.
  for (const check of AUDIT_CHECKS) {
    expect(whatWeChecked).toContain(check.sql.split('\n').map((line) => `    ${line}`).join('\n'));
  }
  expect(whatWeChecked).toContain('  Parameters: $1 = 86400, $2 = 10, $3 = 5, $4 = 20\n');
  expect(text.endsWith('Exit code: 0 (all databases clean)\n')).toBe(true);
});

it('records one `audit {check}` span per check under an `audit` span for the database', async () => {
  const db = await cleanGateway();
  await runAudit({ ...auditConfig([{ label: 'dev', url: db.url }]), tracer: tracing.tracer });

  const [database] = tracing.spansNamed('audit');
  expect(database?.attributes).toMatchObject({
    'db.system.name': 'postgresql',
    'crosstalk.audit.database': 'dev',
    'crosstalk.audit.status': 'clean',
    'server.address': '127.0.0.1',
  });
  for (const check of AUDIT_CHECKS) {
    const spans = tracing.spansNamed(`audit ${check.id}`);
    expect(spans).toHaveLength(1);
    expect(spans[0]?.parentSpanContext?.spanId).toBe(database?.spanContext().spanId);
  }
  const [ownerMismatch] = tracing.spansNamed('audit owner_mismatch');
  expect(ownerMismatch?.attributes).toEqual({
    'db.system.name': 'postgresql',
    'db.namespace': new URL(db.url).pathname.slice(1),
    'db.query.text': AUDIT_CHECKS.find((c) => c.id === 'owner_mismatch')?.sql,
    'crosstalk.audit.database': 'dev',
    'crosstalk.audit.check': 'owner_mismatch',
    'crosstalk.audit.status': 'pass',
    'crosstalk.audit.rows_found': 0,
  });
  expect(tracing.spansNamed('audit shared_across_keys')[0]?.attributes['crosstalk.audit.vacuous']).toBe(true);
  expect(tracing.spansNamed('audit recent_sessions')[0]?.attributes).toMatchObject({
    'crosstalk.audit.status': 'info',
    'crosstalk.audit.rows_found': 20,
  });
});
