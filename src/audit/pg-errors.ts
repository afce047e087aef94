/**
 * What a failed query means for the audit. SQLSTATE codes from PostgreSQL's Appendix A ("PostgreSQL Error
 * Codes"); Node socket codes from the `net` module.
 */
export type FailureKind = 'connection' | 'timeout' | 'permission' | 'undefined_object' | 'read_only' | 'other';

const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** Messages node-postgres uses when the socket is gone or silent (pg/lib/client.js). */
const DRIVER_CONNECTION_MESSAGES = [
  'Connection terminated',
  'Client was closed and is not queryable',
  'Client has encountered a connection error and is not queryable',
  'Query read timeout',
  'timeout expired',
];

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A five-character SQLSTATE means the server answered; anything else came from the socket or the driver. */
export function isSqlState(code: string | undefined): code is string {
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code);
}

export function classifyFailure(err: unknown): FailureKind {
  const code = codeOf(err);
  if (code !== undefined && SOCKET_CODES.has(code)) return 'connection';
  if (isSqlState(code)) {
    // Class 08: connection exception; 57P01..57P03: admin shutdown, crash shutdown, cannot connect now
    // (pg_terminate_backend and server restarts end the session this way).
    if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return 'connection';
    if (code === '57014') return 'timeout'; // query_canceled: statement_timeout fired
    if (code === '42501') return 'permission'; // insufficient_privilege
    if (code === '42P01' || code === '42703' || code === '42883') return 'undefined_object';
    if (code === '25006') return 'read_only'; // read_only_sql_transaction
    return 'other';
  }
  const message = errorMessage(err);
  if (DRIVER_CONNECTION_MESSAGES.some((m) => message.includes(m))) return 'connection';
  return 'other';
}

/**
 * One line for any thrown value. Node 20 connects to `localhost` on both IPv4 and IPv6 and, when both are
 * refused, throws an AggregateError whose own message is empty: its parts are joined instead.
 */
export function errorMessage(err: unknown): string {
  if (err instanceof AggregateError && err.message === '') {
    const parts = err.errors.map((e) => errorMessage(e)).filter((m) => m !== '');
    if (parts.length > 0) return [...new Set(parts)].join('; ');
  }
  if (err instanceof Error) {
    const text = err.message !== '' ? err.message : (codeOf(err) ?? err.name);
    return text.replace(/\s+/g, ' ').trim();
  }
  return String(err).replace(/\s+/g, ' ').trim();
}

/** `error.type` for spans (STYLE.md §7): the code when there is one, else the class name; low cardinality. */
export function errorType(err: unknown): string {
  return codeOf(err) ?? (err instanceof Error ? err.name : 'Error');
}
