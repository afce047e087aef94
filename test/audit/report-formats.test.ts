import { expect, it } from 'vitest';
import type { AuditReport, CheckResult } from '../../src/audit/result.js';
import { JSON_REPORT_FORMAT, renderJsonReport } from '../../src/audit/report-json.js';
import { renderMarkdownReport } from '../../src/audit/report-markdown.js';
import { renderTextReport } from '../../src/audit/report-text.js';

const base = { notes: [], sample: [], durationMs: 3, findings: { violation: 0, warning: 0 } };

const summary: CheckResult = {
  ...base,
  id: 'active_summary',
  seedCheck: 2,
  title: 'Active sessions summary',
  proves: 'Counts the active sessions.',
  status: 'info',
  summary: '6 active rows, 6 API keys, 6 session ids, 6 users; each session id has exactly one row',
  sql: 'SELECT count(*) FROM sessions WHERE is_active = TRUE',
  params: [],
  rowsFound: 6,
  figures: { total_rows: 6, unique_api_keys: 6, unique_session_ids: 6, unique_users: 6 },
};

const mismatch = (status: 'pass' | 'violation'): CheckResult => ({
  ...base,
  id: 'owner_mismatch',
  title: "Sessions whose user is not their API key's owner",
  proves: 'Every session belongs to the owner of its key.',
  status,
  summary: status === 'pass' ? "every session's user owns its API key" : '3 sessions whose user differs from the owner of its API key',
  sql: 'SELECT s.id FROM sessions s\nJOIN api_keys k ON k.id = s.api_key_id\nLIMIT $1',
  params: [2],
  rowsFound: status === 'pass' ? 0 : 3,
  findings: { violation: status === 'pass' ? 0 : 3, warning: 0 },
  sample:
    status === 'pass'
      ? []
      : [
          { id: '0xaa', detail: 'user 2, api key 1 owned by user 1' },
          { id: '0xbb', detail: 'user 3 | api key 1' },
        ],
});

const REPORT: AuditReport = {
  tool: 'crosstalk audit',
  version: '9.9.9',
  startedAt: '2025-10-28T12:00:00.000Z',
  durationMs: 42,
  window: { since: '24h', description: '24 hours', seconds: 86_400 },
  settings: {
    statementTimeoutMs: 30_000,
    sampleLimit: 2,
    churnSessions: 5,
    churnMinutes: 10,
    sessionsGraceSeconds: 900,
    routedGraceSeconds: 30,
    strict: false,
  },
  outcome: 'violation',
  exitCode: 1,
  databases: [
    {
      label: 'dev',
      url: 'postgres://app:***@dev.example:5432/gw',
      outcome: 'clean',
      exitCode: 0,
      serverVersion: '15.20',
      schema: { generations: ['api_key_sessions'], tables: [], missingTables: ['routed_sessions'], sessionsId: 'primary_key' },
      checks: [
        summary,
        mismatch('pass'),
        {
          ...base,
          id: 'routed_pool',
          title: 'routed_sessions pool consistency',
          proves: 'The pool is consistent.',
          status: 'not_applicable',
          summary: 'not applicable: table routed_sessions not found (this database has the 2025 sessions table)',
          reason: 'table routed_sessions not found (this database has the 2025 sessions table)',
          sql: 'SELECT id FROM routed_sessions LIMIT $1',
          params: [2],
          rowsFound: 0,
        },
      ],
      durationMs: 12,
    },
    {
      label: 'prod',
      url: 'postgres://app:***@prod.example:5432/gw',
      outcome: 'violation',
      exitCode: 1,
      error: 'check stale_active failed: canceling statement due to statement timeout',
      schema: { generations: ['api_key_sessions'], tables: [], missingTables: ['routed_sessions'], sessionsId: 'primary_key' },
      checks: [
        { ...summary, summary: '6 active rows, 6 API keys, 6 session ids, 6 users; each session id has exactly one row' },
        mismatch('violation'),
        {
          ...base,
          id: 'stale_active',
          title: 'Active sessions past expires_at',
          proves: 'No session stays active after it expired.',
          status: 'error',
          summary: 'failed: canceling statement due to statement timeout',
          reason: 'canceling statement due to statement timeout',
          sql: 'SELECT id FROM sessions WHERE is_active = TRUE AND expires_at < localtimestamp LIMIT $1',
          params: [2],
          rowsFound: 0,
        },
      ],
      durationMs: 20,
    },
    {
      label: 'stage',
      url: 'postgres://app:***@stage.example:5432/gw',
      outcome: 'error',
      exitCode: 2,
      error: 'could not be reached: connect ECONNREFUSED 10.0.0.3:5432',
      checks: [],
      durationMs: 1,
    },
  ],
};

it('text: the seed report shape, every database, every check, each query', () => {
  expect(renderTextReport(REPORT)).toBe(TEXT);
});

it('markdown: a file to paste into an incident ticket', () => {
  expect(renderMarkdownReport(REPORT)).toBe(MARKDOWN);
});

it('json: the same content, machine-readable, with a format tag', () => {
  const json = renderJsonReport(REPORT);
  expect(json.endsWith('}\n')).toBe(true);
  expect(JSON.parse(json)).toEqual({ format: JSON_REPORT_FORMAT, ...REPORT });
});

const TEXT = `Session-Isolation Audit - Results

Date: 2025-10-28T12:00:00.000Z
Databases Checked: DEV, PROD and STAGE
Window: last 24 hours
Tool: crosstalk audit 9.9.9

Executive Summary
❌ ISOLATION VIOLATION FOUND
  DEV    ✅ clean (1 pass, 1 info, 1 not applicable)
  PROD   ❌ violation: owner_mismatch (3 rows); ❔ check stale_active failed: canceling statement due to statement timeout
  STAGE  ❗ could not be reached: connect ECONNREFUSED 10.0.0.3:5432

========================================================================
DEV Database Results
postgres://app:***@dev.example:5432/gw
========================================================================
✅ NO ISOLATION VIOLATION FOUND
Schema: sessions (2025: one active session per API key); sessions.id is the primary key

CHECK 2: Active sessions summary
Total active session rows: 6
Unique API keys:           6
Unique session IDs:        6
Unique users:              6
✅ Each session_id has exactly one row (correct)

CHECK owner_mismatch: Sessions whose user is not their API key's owner
✅ every session's user owns its API key

CHECK routed_pool: routed_sessions pool consistency
➖ NOT APPLICABLE: table routed_sessions not found (this database has the 2025 sessions table)

All checks
  CHECK             STATUS          ROWS  RESULT
  2 active_summary  info            6     6 active rows, 6 API keys, 6 session ids, 6 users; each session id has exactly one row
  owner_mismatch    pass            0     every session's user owns its API key
  routed_pool       not applicable  -     table routed_sessions not found (this database has the 2025 sessions table)

========================================================================
PROD Database Results
postgres://app:***@prod.example:5432/gw
========================================================================
❌ ISOLATION VIOLATION FOUND
Problem: check stale_active failed: canceling statement due to statement timeout
Schema: sessions (2025: one active session per API key); sessions.id is the primary key

CHECK 2: Active sessions summary
Total active session rows: 6
Unique API keys:           6
Unique session IDs:        6
Unique users:              6
✅ Each session_id has exactly one row (correct)

CHECK owner_mismatch: Sessions whose user is not their API key's owner
❌ 3 sessions whose user differs from the owner of its API key
   offending ids (first 2 of 3):
   - 0xaa: user 2, api key 1 owned by user 1
   - 0xbb: user 3 | api key 1

CHECK stale_active: Active sessions past expires_at
❗ ERROR: canceling statement due to statement timeout

All checks
  CHECK             STATUS     ROWS  RESULT
  2 active_summary  info       6     6 active rows, 6 API keys, 6 session ids, 6 users; each session id has exactly one row
  owner_mismatch    violation  3     3 sessions whose user differs from the owner of its API key
  stale_active      error      -     canceling statement due to statement timeout

========================================================================
STAGE Database Results
postgres://app:***@stage.example:5432/gw
========================================================================
❗ AUDIT COULD NOT RUN
Problem: could not be reached: connect ECONNREFUSED 10.0.0.3:5432

No checks ran.

========================================================================
What We Checked

CHECK 2 (active_summary): Active sessions summary
  Proves: Counts the active sessions.
  Query:
    SELECT count(*) FROM sessions WHERE is_active = TRUE

CHECK owner_mismatch: Sessions whose user is not their API key's owner
  Proves: Every session belongs to the owner of its key.
  Parameters: $1 = 2
  Query:
    SELECT s.id FROM sessions s
    JOIN api_keys k ON k.id = s.api_key_id
    LIMIT $1

CHECK routed_pool: routed_sessions pool consistency
  Proves: The pool is consistent.
  Parameters: $1 = 2
  Query:
    SELECT id FROM routed_sessions LIMIT $1

CHECK stale_active: Active sessions past expires_at
  Proves: No session stays active after it expired.
  Parameters: $1 = 2
  Query:
    SELECT id FROM sessions WHERE is_active = TRUE AND expires_at < localtimestamp LIMIT $1

Every check ran inside BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY (one snapshot per database) with
statement_timeout 30000 ms, in a savepoint of its own; nothing was written.

Exit code: 1 (an isolation violation was found)
`;
const MARKDOWN = `# Session-isolation audit: ❌ ISOLATION VIOLATION FOUND

| | |
|---|---|
| Date | 2025-10-28T12:00:00.000Z |
| Databases checked | DEV, PROD and STAGE |
| Window | last 24 hours |
| Tool | crosstalk audit 9.9.9 |
| Exit code | 1 (an isolation violation was found) |

## Executive summary

| Database | Verdict |
|---|---|
| DEV | ✅ clean (1 pass, 1 info, 1 not applicable) |
| PROD | ❌ violation: owner_mismatch (3 rows); ❔ check stale_active failed: canceling statement due to statement timeout |
| STAGE | ❗ could not be reached: connect ECONNREFUSED 10.0.0.3:5432 |

## DEV: ✅ NO ISOLATION VIOLATION FOUND

- Database: \`postgres://app:***@dev.example:5432/gw\`
- Server: PostgreSQL 15.20
- Schema: sessions (2025: one active session per API key); sessions.id is the primary key

### Seed report checks (DATABASE_CORRUPTION_CHECK.md)

\`\`\`text
CHECK 2: Active sessions summary
Total active session rows: 6
Unique API keys:           6
Unique session IDs:        6
Unique users:              6
✅ Each session_id has exactly one row (correct)
\`\`\`

### All checks

| Check | Status | Rows | Result |
|---|---|---:|---|
| \`active_summary\` Active sessions summary | ℹ️ info | 6 | 6 active rows, 6 API keys, 6 session ids, 6 users; each session id has exactly one row |
| \`owner_mismatch\` Sessions whose user is not their API key's owner | ✅ pass | 0 | every session's user owns its API key |
| \`routed_pool\` routed_sessions pool consistency | ➖ not applicable | – | table routed_sessions not found (this database has the 2025 sessions table) |

## PROD: ❌ ISOLATION VIOLATION FOUND

- Database: \`postgres://app:***@prod.example:5432/gw\`
- Schema: sessions (2025: one active session per API key); sessions.id is the primary key
- **Problem:** check stale_active failed: canceling statement due to statement timeout

### Seed report checks (DATABASE_CORRUPTION_CHECK.md)

\`\`\`text
CHECK 2: Active sessions summary
Total active session rows: 6
Unique API keys:           6
Unique session IDs:        6
Unique users:              6
✅ Each session_id has exactly one row (correct)
\`\`\`

### All checks

| Check | Status | Rows | Result |
|---|---|---:|---|
| \`active_summary\` Active sessions summary | ℹ️ info | 6 | 6 active rows, 6 API keys, 6 session ids, 6 users; each session id has exactly one row |
| \`owner_mismatch\` Sessions whose user is not their API key's owner | ❌ violation | 3 | 3 sessions whose user differs from the owner of its API key |
| \`stale_active\` Active sessions past expires_at | ❗ error | – | canceling statement due to statement timeout |

#### ❌ \`owner_mismatch\`: 3 sessions whose user differs from the owner of its API key (first 2 of 3)

- \`0xaa\` — user 2, api key 1 owned by user 1
- \`0xbb\` — user 3 | api key 1

## STAGE: ❗ AUDIT COULD NOT RUN

- Database: \`postgres://app:***@stage.example:5432/gw\`
- **Problem:** could not be reached: connect ECONNREFUSED 10.0.0.3:5432

No checks ran.

## What we checked

### CHECK 2 (\`active_summary\`) — Active sessions summary

Counts the active sessions.

\`\`\`sql
SELECT count(*) FROM sessions WHERE is_active = TRUE
\`\`\`

### \`owner_mismatch\` — Sessions whose user is not their API key's owner

Every session belongs to the owner of its key.

Parameters: \`$1 = 2\`

\`\`\`sql
SELECT s.id FROM sessions s
JOIN api_keys k ON k.id = s.api_key_id
LIMIT $1
\`\`\`

### \`routed_pool\` — routed_sessions pool consistency

The pool is consistent.

Parameters: \`$1 = 2\`

\`\`\`sql
SELECT id FROM routed_sessions LIMIT $1
\`\`\`

### \`stale_active\` — Active sessions past expires_at

No session stays active after it expired.

Parameters: \`$1 = 2\`

\`\`\`sql
SELECT id FROM sessions WHERE is_active = TRUE AND expires_at < localtimestamp LIMIT $1
\`\`\`

Every check ran inside \`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY\` (one snapshot per database) with \`statement_timeout = 30000\` ms, each in a savepoint of its own; nothing was written.
`;
