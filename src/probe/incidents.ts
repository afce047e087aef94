/**
 * Reads the sidecar's `GET /incidents` and joins them to the probe's requests. By request id first: the sidecar
 * keeps a caller's valid `x-request-id` (the probe's ids are unique per run), and the newer gateway's own id is
 * what it returns in `X-Request-Id`. The older gateway forwards no request id at all, so then by completion id
 * (the sidecar records the ids it saw; the probe read the same stream), and last by session and time: an
 * incident recorded on a session while exactly one of the run's requests on that session was in flight (the
 * probe knows its sessions only when it names them, against a router or the sidecar).
 */
import { request } from 'undici';
import { JOIN_METHODS, type JoinMethod, type ProbeRequestResult, type SidecarJoin } from './result.js';

/** What the probe reads of one incident; other fields are ignored. */
export interface SidecarIncident {
  requestId: string;
  reasons: string[];
  blocked: boolean;
  /** When the sidecar recorded it (the response's end), unix ms. */
  timeMs?: number;
  session?: string;
  /** Completion ids the incident names: its own `completionIds`/`completionId`, or its evidence's. */
  completionIds: string[];
}

/**
 * The sidecar records an incident when the response's socket closes, a moment after the caller read the last
 * byte: how far past a request's end its incident may be stamped and still be joined by time.
 */
export const TIME_JOIN_SLACK_MS = 2_000;
/** Completion ids read per incident (evidence may repeat them). */
const MAX_INCIDENT_IDS = 16;

const EVIDENCE_ID_FIELDS = ['seen', 'previous_id'] as const;

function completionIdsOf(i: { completionIds?: unknown; completionId?: unknown; evidence?: unknown }): string[] {
  const ids = new Set<string>();
  const add = (v: unknown): void => {
    if (typeof v === 'string' && v !== '' && v.length <= 256 && ids.size < MAX_INCIDENT_IDS) ids.add(v);
  };
  if (Array.isArray(i.completionIds)) i.completionIds.forEach(add);
  add(i.completionId);
  if (Array.isArray(i.evidence)) {
    for (const e of i.evidence as unknown[]) {
      const item = e as { reason?: unknown } & Record<string, unknown>;
      // Only the completion-id rules name completion ids in `seen`; the model and session rules name models.
      if (typeof item?.reason !== 'string' || !item.reason.startsWith('completion_id_')) continue;
      for (const field of EVIDENCE_ID_FIELDS) add(item[field]);
    }
  }
  return [...ids];
}

export interface IncidentsPage {
  total: number;
  incidents: SidecarIncident[];
}

/** Ask for everything the sidecar still holds (it caps the answer at its --incidents-limit). */
const ALL = 1_000_000;

export function incidentsUrl(admin: URL): string {
  const url = new URL(admin.href);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/incidents`;
  url.search = `?limit=${ALL}`;
  return url.href;
}

/** The answer of `GET /incidents`, defensively: unknown fields ignored, sizes capped. */
export function parseIncidentsPage(body: unknown): IncidentsPage {
  const page = body as { total?: unknown; incidents?: unknown } | null;
  if (page === null || typeof page !== 'object' || !Array.isArray(page.incidents)) {
    throw new Error('the answer is not {"total", "incidents": [...]}');
  }
  const incidents: SidecarIncident[] = [];
  for (const item of page.incidents as unknown[]) {
    const i = item as {
      requestId?: unknown;
      reasons?: unknown;
      blocked?: unknown;
      time?: unknown;
      session?: unknown;
      completionIds?: unknown;
      completionId?: unknown;
      evidence?: unknown;
    } | null;
    if (i === null || typeof i !== 'object' || typeof i.requestId !== 'string') continue;
    const timeMs = typeof i.time === 'string' ? Date.parse(i.time) : NaN;
    incidents.push({
      requestId: i.requestId,
      reasons: Array.isArray(i.reasons) ? i.reasons.filter((r): r is string => typeof r === 'string') : [],
      blocked: i.blocked === true,
      ...(Number.isFinite(timeMs) && { timeMs }),
      ...(typeof i.session === 'string' && { session: i.session.toLowerCase() }),
      completionIds: completionIdsOf(i),
    });
  }
  return { total: typeof page.total === 'number' ? page.total : incidents.length, incidents };
}

export async function fetchIncidents(admin: URL, timeoutMs: number): Promise<IncidentsPage> {
  const res = await request(incidentsUrl(admin), { method: 'GET', signal: AbortSignal.timeout(timeoutMs) });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`HTTP ${res.statusCode}`);
  }
  return parseIncidentsPage(await res.body.json());
}

/**
 * The sidecar records an incident when the response's socket closes, which can come a moment after the caller
 * read the last byte: read until two answers in a row agree (at most `timeoutMs`).
 */
export async function fetchSettledIncidents(admin: URL, timeoutMs: number, pauseMs = 100): Promise<IncidentsPage> {
  const deadline = Date.now() + timeoutMs;
  let page = await fetchIncidents(admin, timeoutMs);
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, pauseMs));
    const next = await fetchIncidents(admin, timeoutMs);
    if (next.total === page.total) return next;
    page = next;
  }
  return page;
}

/** The run's requests an incident belongs to, and how that was decided; empty when none (or ambiguous). */
function matchIncident(
  incident: SidecarIncident,
  byId: Map<string, ProbeRequestResult[]>,
  byCompletionId: Map<string, ProbeRequestResult[]>,
  requests: readonly ProbeRequestResult[],
): { method: JoinMethod; matched: ProbeRequestResult[] } | { ambiguous: boolean } {
  const exact = byId.get(incident.requestId);
  if (exact !== undefined) return { method: 'request_id', matched: exact };
  // A reused completion id is in two requests' streams: both hold it, both are joined (the incident is about
  // the pair), narrowed to the incident's session when the probe knows its requests' sessions.
  const viaCompletion = new Set<ProbeRequestResult>();
  for (const id of incident.completionIds) for (const r of byCompletionId.get(id) ?? []) viaCompletion.add(r);
  const sessionOk = (r: ProbeRequestResult): boolean =>
    incident.session === undefined || r.session === undefined || r.session === incident.session;
  const byCompletion = [...viaCompletion].filter(sessionOk);
  if (byCompletion.length > 0) return { method: 'completion_id', matched: byCompletion };
  if (incident.timeMs === undefined || incident.session === undefined) return { ambiguous: false };
  const t = incident.timeMs;
  // Only requests on the incident's session that were in flight when it was recorded. A time window alone is
  // never enough (other traffic shares the sidecar): through the gateway, which picks the session, the probe
  // does not know it, and only the completion-id join applies.
  const inFlight = requests.filter(
    (r) =>
      r.outcome !== 'aborted' &&
      r.session === incident.session &&
      r.startedAtMs <= t &&
      t <= r.endedAtMs + TIME_JOIN_SLACK_MS,
  );
  if (inFlight.length === 1) return { method: 'session_time', matched: inFlight };
  return { ambiguous: inFlight.length > 1 };
}

/**
 * Copies each incident's reasons onto the probe requests it belongs to (mutates `requests`) and says who
 * flagged what and how each incident was joined. `truncated`: the sidecar has dropped older incidents (of any
 * traffic), so some of this run's may be gone.
 */
export function joinIncidents(requests: ProbeRequestResult[], page: IncidentsPage, url: string): SidecarJoin {
  const byId = new Map<string, ProbeRequestResult[]>();
  const byCompletionId = new Map<string, ProbeRequestResult[]>();
  const index = (map: Map<string, ProbeRequestResult[]>, key: string, r: ProbeRequestResult): void => {
    const list = map.get(key) ?? [];
    if (!list.includes(r)) list.push(r);
    map.set(key, list);
  };
  for (const r of requests) {
    index(byId, r.requestId, r);
    if (r.upstreamRequestId !== undefined) index(byId, r.upstreamRequestId, r);
    for (const id of r.completionIds) index(byCompletionId, id, r);
  }
  const joinedBy = Object.fromEntries(JOIN_METHODS.map((m) => [m, 0])) as Record<JoinMethod, number>;
  let onThisRun = 0;
  let ambiguous = 0;
  for (const incident of page.incidents) {
    const match = matchIncident(incident, byId, byCompletionId, requests);
    if (!('method' in match)) {
      if (match.ambiguous) ambiguous++;
      continue;
    }
    onThisRun++;
    joinedBy[match.method]++;
    for (const r of match.matched) {
      r.sidecarJoin ??= match.method;
      for (const reason of incident.reasons) if (!r.sidecarReasons.includes(reason)) r.sidecarReasons.push(reason);
    }
  }
  const both: string[] = [];
  const sidecarOnly: string[] = [];
  const probeOnly: string[] = [];
  for (const r of requests) {
    const probe = r.reasons.length > 0;
    const sidecar = r.sidecarReasons.length > 0;
    if (probe && sidecar) both.push(r.requestId);
    else if (sidecar) sidecarOnly.push(r.requestId);
    else if (probe) probeOnly.push(r.requestId);
  }
  return {
    url,
    total: page.total,
    onThisRun,
    truncated: page.total > page.incidents.length,
    joinedBy,
    ambiguous,
    both,
    sidecarOnly,
    probeOnly,
  };
}
