import { SpanKind, SpanStatusCode, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { ClientBase } from 'pg';
import {
  ATTR_DB_NAMESPACE,
  ATTR_DB_QUERY_TEXT,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  CROSSTALK_AUDIT_CHECK,
  CROSSTALK_AUDIT_DATABASE,
  CROSSTALK_AUDIT_REASON,
  CROSSTALK_AUDIT_ROWS_FOUND,
  CROSSTALK_AUDIT_STATUS,
  CROSSTALK_AUDIT_VACUOUS,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
} from '../telemetry/attributes.js';
import type { AuditCheck, CheckContext } from './check-kit.js';
import type { CheckResult, CheckStatus, SeverityCounts } from './result.js';
import { classifyFailure, errorMessage, errorType } from './pg-errors.js';
import { generationUnmet, unmetRequirement } from './schema-detect.js';

/** Each check runs in its own savepoint so a timeout or refusal in one leaves the transaction usable. */
const SAVEPOINT = 'crosstalk_audit_check';

/** The connection died under a check: the database's remaining checks cannot run. */
export class ConnectionLostError extends Error {
  override readonly name = 'ConnectionLostError';
}

export interface CheckRunScope {
  tracer: Tracer;
  /** Parent context (the database's `audit` span). */
  parent: Context;
  /** The database's label (`dev`). */
  database: string;
  /** The database name from the URL, for `db.namespace`. */
  namespace?: string;
  statementTimeoutMs: number;
  /** True once the client emitted `error` or `end`: a driver error is then a lost connection. */
  connectionLost(): boolean;
}

function baseResult(check: AuditCheck, ctx: CheckContext): Omit<CheckResult, 'status' | 'summary' | 'durationMs'> {
  return {
    id: check.id,
    title: check.title,
    proves: check.proves,
    ...(check.seedCheck === undefined ? {} : { seedCheck: check.seedCheck }),
    notes: [],
    sql: check.sql,
    params: check.params(ctx),
    rowsFound: 0,
    findings: { violation: 0, warning: 0 },
    sample: [],
  };
}

/** Rows by severity when a check did not say: all of them under its status, if that is a severity. */
function findingsOf(status: CheckStatus, rowsFound: number, given: SeverityCounts | undefined): SeverityCounts {
  if (given !== undefined) return given;
  if (status === 'violation') return { violation: rowsFound, warning: 0 };
  if (status === 'warning') return { violation: 0, warning: rowsFound };
  return { violation: 0, warning: 0 };
}

const RAN: ReadonlySet<CheckStatus> = new Set(['pass', 'violation', 'warning', 'info']);

/** True when the check ran to a result (whatever it found). */
export function checkRan(status: CheckStatus): boolean {
  return RAN.has(status);
}

/** The reason a failed check gets in the report; never quotes a connection string (none reaches here). */
function failureReason(err: unknown, statementTimeoutMs: number): { status: CheckStatus; reason: string } {
  const message = errorMessage(err);
  switch (classifyFailure(err)) {
    case 'timeout':
      return {
        status: 'error',
        reason:
          `${message} (statement_timeout ${statementTimeoutMs} ms): the table was busy or locked; ` +
          'rerun with a larger --statement-timeout or off-peak',
      };
    case 'permission':
    case 'undefined_object':
      // Privileges and columns are checked up front; these catch what that cannot see (row security,
      // a migration between detection and the check).
      return { status: 'skipped', reason: message };
    case 'read_only':
      return { status: 'error', reason: `${message}: the audit transaction is read-only and refused a write` };
    default:
      return { status: 'error', reason: message };
  }
}

function endSpan(span: Span, result: CheckResult): void {
  span.setAttribute(CROSSTALK_AUDIT_STATUS, result.status);
  if (checkRan(result.status)) {
    span.setAttribute(CROSSTALK_AUDIT_ROWS_FOUND, result.rowsFound);
  }
  if (result.vacuous) span.setAttribute(CROSSTALK_AUDIT_VACUOUS, true);
  if (result.reason !== undefined) span.setAttribute(CROSSTALK_AUDIT_REASON, result.reason);
  // A found violation is a detection and marks the span as an error, like a detected crosstalk (STYLE.md §7).
  if (result.status === 'violation') span.setStatus({ code: SpanStatusCode.ERROR, message: result.summary });
  if (result.status === 'error') span.setStatus({ code: SpanStatusCode.ERROR, message: result.reason ?? '' });
  span.end();
}

/**
 * Runs one check: not applicable when it belongs to a schema generation this database does not hold;
 * skipped when its tables, columns or privileges are missing; otherwise inside a savepoint
 * of the audit's read-only transaction, recorded as an `audit {check}` span. Throws ConnectionLostError
 * (after recording the span) when the connection is gone; every other failure becomes the check's result.
 */
export async function runCheck(
  client: ClientBase,
  check: AuditCheck,
  ctx: CheckContext,
  scope: CheckRunScope,
): Promise<CheckResult> {
  const span = scope.tracer.startSpan(
    `audit ${check.id}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_POSTGRESQL,
        [CROSSTALK_AUDIT_DATABASE]: scope.database,
        [CROSSTALK_AUDIT_CHECK]: check.id,
        [ATTR_DB_QUERY_TEXT]: check.sql,
        ...(scope.namespace ? { [ATTR_DB_NAMESPACE]: scope.namespace } : {}),
      },
    },
    scope.parent,
  );
  const started = performance.now();
  const base = baseResult(check, ctx);
  const elapsed = (): number => Math.round(performance.now() - started);

  const notApplicable = check.notApplicable?.(ctx);
  const unmet =
    generationUnmet(check.generation, ctx.schema) ??
    unmetRequirement(check.requires, ctx.schema) ??
    (notApplicable === undefined ? undefined : { status: 'not_applicable' as const, reason: notApplicable });
  if (unmet !== undefined) {
    const result: CheckResult = {
      ...base,
      status: unmet.status,
      summary: `${unmet.status === 'skipped' ? 'skipped' : 'not applicable'}: ${unmet.reason}`,
      reason: unmet.reason,
      durationMs: 0,
    };
    endSpan(span, result);
    return result;
  }

  try {
    await client.query(`SAVEPOINT ${SAVEPOINT}`);
    const finding = await check.run(client, ctx);
    await client.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
    const result: CheckResult = {
      ...base,
      status: finding.status,
      summary: finding.summary,
      notes: finding.notes ?? [],
      rowsFound: finding.rowsFound,
      findings: findingsOf(finding.status, finding.rowsFound, finding.findings),
      sample: finding.sample ?? [],
      ...(finding.figures ? { figures: finding.figures } : {}),
      ...(finding.vacuous ? { vacuous: true } : {}),
      durationMs: elapsed(),
    };
    endSpan(span, result);
    return result;
  } catch (err) {
    span.setAttribute(ATTR_ERROR_TYPE, errorType(err));
    if (scope.connectionLost() || classifyFailure(err) === 'connection') {
      const reason = `connection lost: ${errorMessage(err)}`;
      endSpan(span, { ...base, status: 'error', summary: reason, reason, durationMs: elapsed() });
      throw new ConnectionLostError(errorMessage(err), { cause: err });
    }
    const { status, reason } = failureReason(err, scope.statementTimeoutMs);
    try {
      await client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
    } catch (rollbackErr) {
      endSpan(span, { ...base, status: 'error', summary: reason, reason, durationMs: elapsed() });
      throw new ConnectionLostError(errorMessage(rollbackErr), { cause: rollbackErr });
    }
    const result: CheckResult = {
      ...base,
      status,
      summary: `${status === 'skipped' ? 'skipped' : 'failed'}: ${reason}`,
      reason,
      durationMs: elapsed(),
    };
    endSpan(span, result);
    return result;
  }
}
