/**
 * The verdict, as a pure function of the requests' results. In order:
 *
 * 1. CROSSTALK (exit 1): any request has a finding: one of the sidecar's detector rules applied by the probe
 *    (request_id_mismatch, session_mismatch, completion_id_collision, completion_id_interleave, model_mismatch),
 *    a probe-only one (foreign_nonce; nonce_missing with --expect-echo), or a sidecar incident joined to it.
 * 2. COULD NOT RUN (exit 2): no request got a 2xx response (target unreachable, refused credentials, …).
 * 3. UNVERIFIED (exit 3): failures hide the result: every 2xx response was an in-band error (a 200 stream
 *    carrying `data: {"error":…}`, the gateway's way of reporting a router failure: a failed request, never
 *    an answer); or no answer carried a request-id echo (the upstream does not echo: the fix cannot be told
 *    from luck); or only some did (an echo that comes and goes proves nothing for the requests without it);
 *    or some requests failed or came back empty (they were not verified at all).
 * 4. FIX VERIFIED (exit 0): every request was answered, every answer echoed its own request id, no finding.
 *
 * Aborted requests (Ctrl-C) are left out of every count.
 */
import { EXIT_CODES, type OffendingRequest, type ProbeRequestResult, type Verdict, type VerdictResult } from './result.js';

export type VerdictInput = Pick<
  ProbeRequestResult,
  'requestId' | 'lane' | 'model' | 'outcome' | 'echo' | 'reasons' | 'sidecarReasons' | 'findings' | 'error' | 'status'
> &
  Partial<Pick<ProbeRequestResult, 'upstreamRequestId'>>;

/** Offending requests listed in a verdict at most (the counts cover all of them). */
export const MAX_OFFENDING = 100;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function result(verdict: Verdict, summary: string, details: string[], offending: OffendingRequest[] = []): VerdictResult {
  return { verdict, exitCode: EXIT_CODES[verdict], summary, details, offending };
}

/** `http_429 ×12, ECONNRESET ×1`: the failures by error type, most frequent first. */
export function failureBreakdown(requests: readonly VerdictInput[]): string {
  const counts = new Map<string, number>();
  for (const r of requests) {
    if (r.outcome !== 'failed') continue;
    const key = r.error ?? 'failed';
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ×${n}`)
    .join(', ');
}

function answersOf(r: VerdictInput): { answersOf: string[]; answersOfTotal: number } {
  const evidence = r.findings.find((f) => f.reason === 'foreign_nonce')?.evidence;
  const others = evidence?.['others'];
  const total = evidence?.['other_requests'];
  const ids = typeof others === 'string' && others !== '' ? others.split(',') : [];
  return { answersOf: ids, answersOfTotal: typeof total === 'number' ? total : ids.length };
}

export function decideVerdict(all: readonly VerdictInput[]): VerdictResult {
  const requests = all.filter((r) => r.outcome !== 'aborted');
  const offending = requests.filter((r) => r.reasons.length > 0 || r.sidecarReasons.length > 0);
  const answered = requests.filter((r) => r.outcome === 'ok' || r.outcome === 'empty');
  const failed = requests.filter((r) => r.outcome === 'failed');
  const empty = requests.filter((r) => r.outcome === 'empty');
  const matched = answered.filter((r) => r.echo === 'match').length;
  const missing = answered.filter((r) => r.echo === 'missing').length;
  const details: string[] = [];
  if (failed.length > 0) details.push(`${plural(failed.length, 'request')} failed: ${failureBreakdown(requests)}`);
  if (empty.length > 0) details.push(`${plural(empty.length, 'answer')} came back empty (no completion chunk at all)`);

  if (offending.length > 0) {
    const sidecarOnly = offending.filter((r) => r.reasons.length === 0).length;
    if (sidecarOnly > 0) details.push(`${plural(sidecarOnly, 'request')} flagged by the sidecar only`);
    return result(
      'CROSSTALK',
      `${offending.length} of ${plural(requests.length, 'request')} got an answer that belongs to another request`,
      details,
      offending.slice(0, MAX_OFFENDING).map((r) => ({
        requestId: r.requestId,
        ...(r.upstreamRequestId !== undefined && { upstreamRequestId: r.upstreamRequestId }),
        lane: r.lane,
        model: r.model,
        reasons: [...r.reasons],
        sidecarReasons: [...r.sidecarReasons],
        ...answersOf(r),
      })),
    );
  }
  if (answered.length === 0) {
    const inBand = requests.filter((r) => r.error === 'in_band_error').length;
    if (inBand > 0) {
      return result(
        'UNVERIFIED',
        `none of ${plural(requests.length, 'request')} was answered: ${inBand} came back as in-band errors ` +
          '(a 200 stream carrying data: {"error":…}), so nothing was verified',
        details,
      );
    }
    const why = requests.length === 0 ? 'no request was sent' : `none of ${plural(requests.length, 'request')} was answered`;
    return result('COULD NOT RUN', `${why}: check --target and the credentials`, details);
  }
  if (matched === 0) {
    const ownIds = answered.filter((r) => r.upstreamRequestId !== undefined).length;
    if (ownIds > 0) {
      return result(
        'UNVERIFIED',
        `the gateway answered with X-Request-Ids of its own (${ownIds} of ${answered.length} answers): the router's ` +
          'echo is not visible through it; probe the sidecar directly, or join its incidents (--sidecar-admin)',
        details,
      );
    }
    return result(
      'UNVERIFIED',
      `no answer echoed its x-request-id (${answered.length} answered): the upstream does not echo request ids, so a correct answer cannot be told from a lucky one`,
      details,
    );
  }
  if (missing > 0) {
    details.unshift(`${plural(missing, 'answer')} of ${answered.length} carried no x-request-id echo`);
    return result('UNVERIFIED', `the request-id echo is missing on some answers (${matched} matched, ${missing} missing)`, details);
  }
  if (failed.length > 0 || empty.length > 0) {
    return result('UNVERIFIED', `no crosstalk seen, but not every request was verified`, details);
  }
  return result(
    'FIX VERIFIED',
    `${plural(requests.length, 'request')}: every answer echoed its own request id and none showed crosstalk`,
    details,
  );
}
