import { context, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import pg from 'pg';
import {
  ATTR_DB_NAMESPACE,
  ATTR_DB_SYSTEM_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  CROSSTALK_AUDIT_DATABASE,
  CROSSTALK_AUDIT_STATUS,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
} from '../telemetry/attributes.js';
import { VERSION } from '../version.js';
import { describeWindow, type AuditCheck, type CheckContext } from './check-kit.js';
import { AUDIT_CHECKS } from './checks.js';
import { maskUrl, redactUrl } from './mask-url.js';
import {
  exitCodeOf,
  worstOutcome,
  type AuditReport,
  type CheckResult,
  type DatabaseOutcome,
  type DatabaseReport,
} from './result.js';
import type { AuditSettings, DatabaseTarget } from './options.js';
import type { ProviderState } from './provider-state.js';
import { errorMessage, isSqlState } from './pg-errors.js';
import { ConnectionLostError, runCheck } from './run-check.js';
import { detectSchema, schemaReport, type DetectedSchema } from './schema-detect.js';

/** Shows up in pg_stat_activity, so a DBA can see (and kill) the audit. */
export const AUDIT_APPLICATION_NAME = 'crosstalk-audit';
/**
 * The client-side backstop after statement_timeout: a server that stops answering altogether (a network
 * partition, PGlite, which has no statement timer) would otherwise hang the audit forever.
 */
export const QUERY_TIMEOUT_GRACE_MS = 5_000;
/** How long closing a connection may take before the audit gives up on it. */
const CLOSE_TIMEOUT_MS = 2_000;

/**
 * REPEATABLE READ gives every check one snapshot, so CHECK 2's counts and the checks that follow describe
 * the same moment; READ ONLY makes the server refuse any write, DDL or row lock (PostgreSQL docs, SET
 * TRANSACTION). A read-only repeatable-read transaction never fails with a serialization error.
 */
export const BEGIN_SQL = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';
/**
 * `SET LOCAL` takes no parameters; set_config(…, true) is its parameterised form and ends with the
 * transaction. TimeZone UTC: the gateway's timestamps are naive UTC (see checks.ts).
 */
export const SET_LOCALS_SQL = "SELECT set_config('statement_timeout', $1, true), set_config('TimeZone', 'UTC', true)";

export interface RunAuditOptions extends AuditSettings {
  databases: DatabaseTarget[];
  tracer: Tracer;
  /** `--provider-state`, loaded: each database's previous providers, and where this run's go. */
  providerState?: ProviderState;
  /** Defaults to every check; tests add their own. */
  checks?: readonly AuditCheck[];
}

function targetParts(url: string): { namespace?: string; host?: string; port?: number } {
  try {
    const parsed = new URL(url);
    const namespace = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
    return {
      ...(namespace ? { namespace } : {}),
      ...(parsed.hostname ? { host: parsed.hostname } : {}),
      port: parsed.port ? Number(parsed.port) : 5432,
    };
  } catch {
    return {};
  }
}

/** Ends the client without letting a dead socket hold the audit up. */
async function closeClient(client: pg.Client): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.end().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}

function connectFailure(err: unknown): string {
  const code = (err as { code?: string } | null)?.code;
  // A SQLSTATE means the server answered (bad password, unknown database); otherwise it was never reached.
  return `${isSqlState(code) ? 'refused the connection' : 'could not be reached'}: ${errorMessage(err)}`;
}

/** `owner_mismatch (why); stale_active (why)`. */
function listed(checks: CheckResult[]): string {
  return checks.map((c) => `${c.id} (${c.reason ?? ''})`).join('; ');
}

/**
 * Why the database is not verified, from its checks, when the connection itself was fine: every check that
 * applies and did not run is named with its reason. `nothing` is true when no check applies at all (no
 * gateway table): the audit could not run there. Tables present but unreadable leave it UNVERIFIED.
 */
function checkProblems(checks: CheckResult[]): { problem: string; nothing: boolean } | undefined {
  const failed = checks.filter((c) => c.status === 'error');
  const skipped = checks.filter((c) => c.status === 'skipped');
  // No gateway table at all (every check belongs to a schema that is not there): the audit could not run.
  if (checks.every((c) => c.status === 'not_applicable')) {
    const reasons = [...new Set(checks.map((c) => c.reason).filter((r) => r !== undefined))];
    return { problem: `nothing could be checked: ${reasons.join('; ') || 'no checks'}`, nothing: true };
  }
  const parts: string[] = [];
  if (failed.length === 1) parts.push(`check ${failed[0]?.id} failed: ${failed[0]?.reason ?? ''}`);
  if (failed.length > 1) parts.push(`${failed.length} checks failed: ${listed(failed)}`);
  if (skipped.length === 1) parts.push(`check ${skipped[0]?.id} could not run: ${skipped[0]?.reason ?? ''}`);
  if (skipped.length > 1) parts.push(`${skipped.length} checks could not run: ${listed(skipped)}`);
  return parts.length === 0 ? undefined : { problem: parts.join('; '), nothing: false };
}

/**
 * A violation wins (a confirmed finding is the headline); then the audit not running at all; then a check
 * that applies and did not run (UNVERIFIED: never green on what could not be checked); then warnings.
 */
function outcomeOf(checks: CheckResult[], couldNotRun: boolean, unverified: boolean): DatabaseOutcome {
  if (checks.some((c) => c.status === 'violation')) return 'violation';
  if (couldNotRun) return 'error';
  if (unverified) return 'unverified';
  return checks.some((c) => c.status === 'warning') ? 'warning' : 'clean';
}

/** Audits one database; never throws: every failure ends up in the returned report. */
export async function auditDatabase(target: DatabaseTarget, options: RunAuditOptions): Promise<DatabaseReport> {
  const started = performance.now();
  const { namespace, host, port } = targetParts(target.url);
  const span = options.tracer.startSpan('audit', {
    kind: SpanKind.CLIENT,
    attributes: {
      [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_POSTGRESQL,
      [CROSSTALK_AUDIT_DATABASE]: target.label,
      ...(namespace ? { [ATTR_DB_NAMESPACE]: namespace } : {}),
      ...(host ? { [ATTR_SERVER_ADDRESS]: host } : {}),
      ...(port ? { [ATTR_SERVER_PORT]: port } : {}),
    },
  });
  // Nested under whatever span is active (the demo's, say); the checks' spans are children of this one.
  const parent = trace.setSpan(context.active(), span);

  const client = new pg.Client({
    connectionString: target.url,
    application_name: AUDIT_APPLICATION_NAME,
    connectionTimeoutMillis: options.connectTimeoutMs,
    query_timeout: options.statementTimeoutMs + QUERY_TIMEOUT_GRACE_MS,
    keepAlive: true,
  });
  let lost = false;
  // Without a listener an `error` event (the server went away between queries) would crash the process.
  client.on('error', () => {
    lost = true;
  });
  client.on('end', () => {
    lost = true;
  });

  const checks: CheckResult[] = [];
  let error: string | undefined;
  let serverVersion: string | undefined;
  let schema: DetectedSchema | undefined;
  let connected = false;
  try {
    await client.connect();
    connected = true;
    await client.query(BEGIN_SQL);
    await client.query(SET_LOCALS_SQL, [String(options.statementTimeoutMs)]);
    serverVersion = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version;
    schema = await detectSchema(client);
    const ctx: CheckContext = {
      windowSeconds: options.sinceMs / 1000,
      windowDescription: describeWindow(options.since),
      windowLabel: options.since,
      sampleLimit: options.sampleLimit,
      churnSessions: options.churnSessions,
      churnMinutes: options.churnMinutes,
      sessionsGraceSeconds: options.sessionsGraceSeconds,
      routedGraceSeconds: options.routedGraceSeconds,
      schema,
      ...(options.providerState === undefined ? {} : { providers: options.providerState.memory(target.label) }),
    };
    const all = options.checks ?? AUDIT_CHECKS;
    for (const [index, check] of all.entries()) {
      try {
        checks.push(
          await runCheck(client, check, ctx, {
            tracer: options.tracer,
            parent,
            database: target.label,
            ...(namespace ? { namespace } : {}),
            statementTimeoutMs: options.statementTimeoutMs,
            connectionLost: () => lost,
          }),
        );
      } catch (err) {
        if (!(err instanceof ConnectionLostError)) throw err;
        error = `connection lost during check ${check.id}: ${err.message}`;
        const reason = `connection lost: ${err.message}`;
        for (const notRun of all.slice(index)) {
          checks.push({
            id: notRun.id,
            title: notRun.title,
            proves: notRun.proves,
            ...(notRun.seedCheck === undefined ? {} : { seedCheck: notRun.seedCheck }),
            status: 'error',
            summary: notRun === check ? `failed: ${reason}` : `not run: ${reason}`,
            notes: [],
            sql: notRun.sql,
            params: notRun.params(ctx),
            rowsFound: 0,
            findings: { violation: 0, warning: 0 },
            sample: [],
            reason: notRun === check ? reason : `not run: ${reason}`,
            durationMs: 0,
          });
        }
        break;
      }
    }
    // Nothing was written; ROLLBACK says so explicitly and ends the snapshot.
    if (!lost) await client.query('ROLLBACK');
  } catch (err) {
    error ??= connected
      ? lost
        ? `connection lost: ${errorMessage(err)}`
        : `could not run the audit: ${errorMessage(err)}`
      : connectFailure(err);
  } finally {
    await closeClient(client);
  }

  // A connection or set-up failure is the audit not running; a check that could not run leaves it unverified.
  const couldNotRun = error !== undefined;
  const problems = couldNotRun ? undefined : checkProblems(checks);
  error ??= problems?.problem;
  const outcome = outcomeOf(checks, couldNotRun || problems?.nothing === true, problems !== undefined);
  span.setAttribute(CROSSTALK_AUDIT_STATUS, outcome);
  if (outcome !== 'clean' && outcome !== 'warning') span.setStatus({ code: SpanStatusCode.ERROR, message: error ?? outcome });
  span.end();

  return {
    label: target.label,
    url: maskUrl(target.url),
    outcome,
    exitCode: exitCodeOf(outcome, options.strict),
    // Driver messages can quote what they were given; the password never leaves this function.
    ...(error === undefined ? {} : { error: redactUrl(error, target.url) }),
    ...(serverVersion === undefined ? {} : { serverVersion }),
    ...(schema === undefined ? {} : { schema: schemaReport(schema) }),
    checks: checks.map((c) => (c.reason === undefined ? c : { ...c, reason: redactUrl(c.reason, target.url) })),
    durationMs: Math.round(performance.now() - started),
  };
}

/** Audits every database concurrently (each on one connection, in one read-only transaction). */
export async function runAudit(options: RunAuditOptions): Promise<AuditReport> {
  const startedAt = new Date();
  const started = performance.now();
  const databases = await Promise.all(options.databases.map((target) => auditDatabase(target, options)));
  const outcome = worstOutcome(databases.map((d) => d.outcome));
  return {
    tool: 'crosstalk audit',
    version: VERSION,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    window: { since: options.since, description: describeWindow(options.since), seconds: options.sinceMs / 1000 },
    settings: {
      statementTimeoutMs: options.statementTimeoutMs,
      sampleLimit: options.sampleLimit,
      churnSessions: options.churnSessions,
      churnMinutes: options.churnMinutes,
      sessionsGraceSeconds: options.sessionsGraceSeconds,
      routedGraceSeconds: options.routedGraceSeconds,
      strict: options.strict,
    },
    outcome,
    exitCode: exitCodeOf(outcome, options.strict),
    databases,
  };
}

/** The one-line stderr message for a database that could not be (fully) audited. */
export function databaseErrorLine(database: DatabaseReport): string | undefined {
  if (database.error === undefined) return undefined;
  return `crosstalk audit: database "${database.label}" (${database.url}) ${database.error}`;
}
