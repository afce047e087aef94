/**
 * `crosstalk incidents` (issue 17 item 6): from the incidents of one or more sidecars (their admin `/incidents`),
 * which key prefixes and sessions received whose data — per incident and in total: the list a team needs to notify
 * the affected customers. Ids, key prefixes and session ids only: an incident never holds content.
 */
import type { Incident } from '../proxy/incidents.js';

export interface Party {
  requestId: string;
  apiKeyPrefix?: string;
  session?: string;
  /** The sidecar replica that served it, when the incidents name one (a shared store). */
  replica?: string;
  /** Its trace id, when known. */
  traceId?: string;
}

export interface IncidentLine {
  time: string;
  /** The request that got foreign bytes (or was paired with one). */
  receiver: Party;
  reasons: string[];
  /** The requests its bytes came from (or went to), with their key and session when the log holds them. */
  others: Party[];
  traceId: string;
}

export interface IncidentsSummary {
  since: string;
  incidents: IncidentLine[];
  /** Per key prefix: incidents where it received foreign data, and the key prefixes that data belonged to. */
  byKey: { apiKeyPrefix: string; incidents: number; sessions: string[]; dataFrom: string[] }[];
  /** Every key prefix involved on either side (to notify), sorted. */
  affectedKeys: string[];
  /** Every session involved on either side, sorted. */
  affectedSessions: string[];
}

const UNKNOWN_KEY = '(no key seen)';

function party(i: Pick<Incident, 'requestId' | 'apiKeyPrefix' | 'session' | 'replica'>, traceId?: string): Party {
  const p: Party = { requestId: i.requestId };
  if (i.apiKeyPrefix !== undefined) p.apiKeyPrefix = i.apiKeyPrefix;
  if (i.session !== undefined) p.session = i.session;
  if (i.replica !== undefined) p.replica = i.replica;
  if (traceId !== undefined && traceId !== '') p.traceId = traceId;
  return p;
}

/** The other request `id` of incident `i`: its own incident's key and session when held, else what `i` names. */
function otherParty(i: Incident, id: string, byRequest: ReadonlyMap<string, Incident>): Party {
  const named = i.relatedRequests?.find((r) => r.requestId === id);
  const own = byRequest.get(id);
  const p = own === undefined ? { requestId: id } : party(own, own.traceId);
  if (p.replica === undefined && named?.replica !== undefined) p.replica = named.replica;
  if (p.traceId === undefined && named?.traceId !== undefined) p.traceId = named.traceId;
  return p;
}

/** Incidents of several sidecars merged (one per request id and time), newest first, from `sinceMs` on. */
export function summarizeIncidents(all: readonly Incident[], sinceMs: number): IncidentsSummary {
  const seen = new Set<string>();
  const incidents = all
    .filter((i) => Date.parse(i.time) >= sinceMs)
    .filter((i) => {
      const k = `${i.requestId}|${i.time}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
  const byRequest = new Map<string, Incident>();
  for (const i of incidents) if (!byRequest.has(i.requestId)) byRequest.set(i.requestId, i);

  const lines: IncidentLine[] = incidents.map((i) => ({
    time: i.time,
    receiver: party(i),
    reasons: [...i.reasons],
    others: (i.relatedRequestIds ?? []).map((id) => otherParty(i, id, byRequest)),
    traceId: i.traceId,
  }));

  const keys = new Map<string, { incidents: number; sessions: Set<string>; dataFrom: Set<string> }>();
  const affectedKeys = new Set<string>();
  const affectedSessions = new Set<string>();
  for (const line of lines) {
    const key = line.receiver.apiKeyPrefix ?? UNKNOWN_KEY;
    let entry = keys.get(key);
    if (entry === undefined) keys.set(key, (entry = { incidents: 0, sessions: new Set(), dataFrom: new Set() }));
    entry.incidents++;
    if (line.receiver.session !== undefined) entry.sessions.add(line.receiver.session);
    for (const o of line.others) entry.dataFrom.add(o.apiKeyPrefix ?? `request ${o.requestId}`);
    for (const p of [line.receiver, ...line.others]) {
      if (p.apiKeyPrefix !== undefined) affectedKeys.add(p.apiKeyPrefix);
      if (p.session !== undefined) affectedSessions.add(p.session);
    }
  }
  return {
    since: new Date(sinceMs).toISOString(),
    incidents: lines,
    byKey: [...keys]
      .map(([apiKeyPrefix, e]) => ({
        apiKeyPrefix,
        incidents: e.incidents,
        sessions: [...e.sessions].sort(),
        dataFrom: [...e.dataFrom].sort(),
      }))
      .sort((a, b) => b.incidents - a.incidents || a.apiKeyPrefix.localeCompare(b.apiKeyPrefix)),
    affectedKeys: [...affectedKeys].sort(),
    affectedSessions: [...affectedSessions].sort(),
  };
}

const who = (p: Party): string => {
  const where = [`request ${p.requestId}`];
  if (p.session !== undefined) where.push(`session ${p.session}`);
  if (p.replica !== undefined) where.push(`replica ${p.replica}`);
  if (p.traceId !== undefined && !/^0+$/.test(p.traceId)) where.push(`trace ${p.traceId}`);
  return `${p.apiKeyPrefix ?? UNKNOWN_KEY} (${where.join(', ')})`;
};

export function formatSummary(s: IncidentsSummary, sources: number): string {
  const out: string[] = [`${s.incidents.length} incident(s) since ${s.since} from ${sources} sidecar(s)`];
  if (s.incidents.length === 0) return `${out[0]}\n`;
  out.push('', 'Per incident (newest first):');
  for (const l of s.incidents) {
    const from = l.others.length === 0 ? '' : `; paired with ${l.others.map(who).join(', ')}`;
    out.push(`  ${l.time}  ${l.reasons.join('+')}: ${who(l.receiver)}${from}${l.traceId !== '' && !/^0+$/.test(l.traceId) ? `  trace ${l.traceId}` : ''}`);
  }
  out.push('', 'Per receiving key prefix:');
  for (const k of s.byKey) {
    out.push(`  ${k.apiKeyPrefix}: ${k.incidents} incident(s); sessions ${k.sessions.join(', ') || '-'}; data of ${k.dataFrom.join(', ') || 'unknown requests'}`);
  }
  out.push('', `Key prefixes to notify (${s.affectedKeys.length}): ${s.affectedKeys.join(', ') || '-'}`);
  out.push(`Sessions involved (${s.affectedSessions.length}): ${s.affectedSessions.join(', ') || '-'}`);
  return `${out.join('\n')}\n`;
}
