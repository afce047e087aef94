import { describe, expect, it } from 'vitest';
import { describeWindow } from '../../src/audit/check-kit.js';
import {
  DEFAULT_CHURN_MINUTES,
  DEFAULT_CHURN_SESSIONS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_SAMPLE_LIMIT,
  DEFAULT_STATEMENT_TIMEOUT_MS,
  resolveAuditConfig,
} from '../../src/audit/options.js';
import { ConfigError } from '../../src/errors.js';

const DEV = 'postgres://app:s3cret@db.example:5432/gw_dev';
const PROD = 'postgresql://app:s3cret@db.example:5432/gw';

describe('resolveAuditConfig', () => {
  it('fills every default from the exported constants', () => {
    expect(resolveAuditConfig({ db: [`dev=${DEV}`] }, {})).toEqual({
      databases: [{ label: 'dev', url: DEV }],
      format: 'text',
      out: undefined,
      since: '24h',
      sinceMs: 86_400_000,
      statementTimeoutMs: DEFAULT_STATEMENT_TIMEOUT_MS,
      connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
      sampleLimit: DEFAULT_SAMPLE_LIMIT,
      churnSessions: DEFAULT_CHURN_SESSIONS,
      churnMinutes: DEFAULT_CHURN_MINUTES,
      metricsFile: undefined,
      providerStateFile: undefined,
      printGrants: false,
      grantRole: 'crosstalk_audit',
      // The gateways' own reaper intervals (../shared/CONTEXT.md): 15 min for sessions, 30 s for routed_sessions.
      sessionsGraceSeconds: 900,
      routedGraceSeconds: 30,
      strict: false,
    });
  });

  it('reads every option from its env var, and a flag wins over the env var', () => {
    const env = {
      CROSSTALK_AUDIT_DATABASES: `dev=${DEV}, prod=${PROD}`,
      CROSSTALK_AUDIT_FORMAT: 'json',
      CROSSTALK_AUDIT_OUT: '/tmp/audit.json',
      CROSSTALK_AUDIT_SINCE: '7d',
      CROSSTALK_AUDIT_STATEMENT_TIMEOUT: '5s',
      CROSSTALK_AUDIT_CONNECT_TIMEOUT: '1500ms',
      CROSSTALK_AUDIT_SAMPLE_LIMIT: '3',
      CROSSTALK_AUDIT_CHURN_SESSIONS: '10',
      CROSSTALK_AUDIT_CHURN_MINUTES: '2',
      CROSSTALK_AUDIT_SESSIONS_GRACE: '1h',
      CROSSTALK_AUDIT_ROUTED_GRACE: '0s',
      CROSSTALK_AUDIT_STRICT: 'true',
      CROSSTALK_AUDIT_METRICS_FILE: '/var/lib/node_exporter/textfile/crosstalk.prom',
      CROSSTALK_AUDIT_GRANT_ROLE: 'auditor',
      CROSSTALK_AUDIT_PROVIDER_STATE: '/var/lib/crosstalk/providers.json',
    };
    expect(resolveAuditConfig({}, env)).toEqual({
      databases: [
        { label: 'dev', url: DEV },
        { label: 'prod', url: PROD },
      ],
      format: 'json',
      out: '/tmp/audit.json',
      since: '7d',
      sinceMs: 7 * 86_400_000,
      statementTimeoutMs: 5_000,
      connectTimeoutMs: 1_500,
      sampleLimit: 3,
      churnSessions: 10,
      churnMinutes: 2,
      metricsFile: '/var/lib/node_exporter/textfile/crosstalk.prom',
      providerStateFile: '/var/lib/crosstalk/providers.json',
      printGrants: false,
      grantRole: 'auditor',
      sessionsGraceSeconds: 3600,
      routedGraceSeconds: 0,
      strict: true,
    });
    const flagged = resolveAuditConfig({ db: [`prod=${PROD}`], format: 'markdown', since: '30m' }, env);
    expect(flagged.databases).toEqual([{ label: 'prod', url: PROD }]);
    expect(flagged.format).toBe('markdown');
    expect(flagged.sinceMs).toBe(1_800_000);
  });

  it.each([
    [{}, '--db label=postgres://… is required (or set CROSSTALK_AUDIT_DATABASES)'],
    [{ db: [DEV] }, '--db must be label=postgres://… with a label of letters, digits, _ . - (got "postgres://app:***@db.example:5432/gw_dev")'],
    [{ db: ['dev=mysql://app:s3cret@db/gw'] }, '--db must be label=postgres://… (got "dev=mysql://app:***@db/gw")'],
    [{ db: ['dev=not a url'] }, '--db must be label=postgres://… (got "dev=not a url")'],
    [{ db: [`dev=${DEV}`, `DEV=${PROD}`] }, '--db labels must be unique (got "DEV" twice)'],
    [{ db: [`dev=${DEV}`], format: 'html' }, '--format must be one of text, json, markdown (got "html")'],
    [{ db: [`dev=${DEV}`], since: '24' }, '--since must be a duration like 500ms, 30s, 5m, 24h (got "24")'],
    [{ db: [`dev=${DEV}`], since: '0h' }, '--since must be greater than 0'],
    [
      { db: [`dev=${DEV}`], statementTimeout: 'soon' },
      '--statement-timeout must be a duration like 500ms, 30s, 5m, 24h (got "soon")',
    ],
    [{ db: [`dev=${DEV}`], sampleLimit: '0' }, '--sample-limit must be greater than 0'],
    [{ db: [`dev=${DEV}`], churnSessions: '2.5' }, '--churn-sessions must be a whole number ≥ 0 (got "2.5")'],
    [
      { db: [`dev=${DEV}`], routedGrace: '30' },
      '--routed-grace must be a duration like 500ms, 30s, 5m, 24h (got "30")',
    ],
    [
      { db: [`dev=${DEV}`], sessionsGrace: '1500ms' },
      '--sessions-grace must be whole seconds (got "1500ms")',
    ],
    [
      { db: [`dev=${DEV}`], grantRole: 'x; DROP TABLE users' },
      '--grant-role must be a role name of lower-case letters, digits and _ (got "x; DROP TABLE users")',
    ],
    [{ db: [`dev=${DEV}`], metricsFile: ' ' }, '--metrics-file must be a file path'],
    [{ db: [`dev=${DEV}`], sampleLimit: '1001' }, '--sample-limit must be at most 1000 (got "1001")'],
  ])('refuses %j naming the option: %s', (flags, message) => {
    const attempt = (): unknown => resolveAuditConfig(flags, {});
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
  });

  it('names the env var when the bad value came from it, and never echoes a password', () => {
    const attempt = (): unknown => resolveAuditConfig({}, { CROSSTALK_AUDIT_DATABASES: 'postgres://u:hunter22@h/db' });
    expect(attempt).toThrow(
      'CROSSTALK_AUDIT_DATABASES must be label=postgres://… with a label of letters, digits, _ . - (got "postgres://u:***@h/db")',
    );
    expect(() => resolveAuditConfig({ db: [`dev=${DEV}`] }, { CROSSTALK_AUDIT_SINCE: '1w' })).toThrow(
      'CROSSTALK_AUDIT_SINCE must be a duration like 500ms, 30s, 5m, 24h (got "1w")',
    );
    expect(() => resolveAuditConfig({ db: [`dev=${DEV}`] }, { CROSSTALK_AUDIT_STRICT: 'sometimes' })).toThrow(
      'CROSSTALK_AUDIT_STRICT must be true or false (got "sometimes")',
    );
  });
});

describe('the window in words', () => {
  // The grammar itself is src/config/values.ts' one duration parser (test/config/values.test.ts).
  it('describes a window in words for the report', () => {
    expect([describeWindow('24h'), describeWindow('1d'), describeWindow('30m'), describeWindow('1.5h')]).toEqual([
      '24 hours',
      '1 day',
      '30 minutes',
      '1.5 hours',
    ]);
  });
});
