/**
 * Reads the sidecar's `GET /incidents` and joins them to the probe's requests by request id (the sidecar keeps a
 * caller's valid `x-request-id`, and the probe's ids are unique per run).
 */
import { request } from 'undici';
import type { ProbeRequestResult, SidecarJoin } from './model.js';

/** What the probe reads of one incident; other fields are ignored. */
export interface SidecarIncident {
  requestId: string;
  reasons: string[];
  blocked: boolean;
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

function parsePage(body: unknown): IncidentsPage {
  const page = body as { total?: unknown; incidents?: unknown } | null;
  if (page === null || typeof page !== 'object' || !Array.isArray(page.incidents)) {
    throw new Error('the answer is not {"total", "incidents": [...]}');
  }
  const incidents: SidecarIncident[] = [];
  for (const item of page.incidents as unknown[]) {
    const i = item as { requestId?: unknown; reasons?: unknown; blocked?: unknown } | null;
    if (i === null || typeof i !== 'object' || typeof i.requestId !== 'string') continue;
    incidents.push({
      requestId: i.requestId,
      reasons: Array.isArray(i.reasons) ? i.reasons.filter((r): r is string => typeof r === 'string') : [],
      blocked: i.blocked === true,
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
  return parsePage(await res.body.json());
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

/**
 * Copies each incident's reasons onto the probe request with its id (mutates `requests`) and says who flagged
 * what. `truncated`: the sidecar has dropped older incidents (of any traffic), so some of this run's may be gone.
 */
export function joinIncidents(requests: ProbeRequestResult[], page: IncidentsPage, url: string): SidecarJoin {
  const byId = new Map(requests.map((r) => [r.requestId, r]));
  let onThisRun = 0;
  for (const incident of page.incidents) {
    const r = byId.get(incident.requestId);
    if (r === undefined) continue;
    onThisRun++;
    for (const reason of incident.reasons) if (!r.sidecarReasons.includes(reason)) r.sidecarReasons.push(reason);
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
    both,
    sidecarOnly,
    probeOnly,
  };
}
