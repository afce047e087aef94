import { randomUUID } from 'node:crypto';

/** Accepted incoming ids: 1–128 characters of `[A-Za-z0-9._:-]` (safe in a header, a log and a URL). */
const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface RequestIdDecision {
  /** The id the sidecar uses: sent upstream and echoed to the caller. */
  id: string;
  /** True when the caller sent an `x-request-id` that failed validation (and a new id was generated). */
  rejected: boolean;
  /** Length of the rejected value, for diagnostics; the value itself is never kept. */
  rejectedLength?: number;
}

/**
 * Accepts the caller's `x-request-id` if valid, else generates a UUID. A rejected value is never copied
 * anywhere (header, log, span): it may carry CRLF, NUL or megabytes of text.
 */
export function decideRequestId(incoming: string | string[] | undefined): RequestIdDecision {
  if (incoming === undefined) return { id: randomUUID(), rejected: false };
  // Node joins repeated headers with ", " for unknown names; an array is never a single valid id.
  const value = Array.isArray(incoming) ? incoming.join(', ') : incoming;
  if (VALID_REQUEST_ID.test(value)) return { id: value, rejected: false };
  return { id: randomUUID(), rejected: true, rejectedLength: value.length };
}

export function isValidRequestId(value: string): boolean {
  return VALID_REQUEST_ID.test(value);
}
