/** A request an incident involves, and where it was served (issue 17 item 5). */
export interface RelatedRequest {
  requestId: string;
  /** The sidecar replica that served it (with a shared store; absent otherwise). */
  replica?: string;
  /** Its trace, when known (this replica's span, or the one another replica shared). */
  traceId?: string;
}

/** What `GET /incidents` shows for one flagged response. Ids and fingerprints only, never content. */
export interface Incident {
  time: string;
  requestId: string;
  traceId: string;
  method: string;
  path: string;
  session?: string;
  apiKeyPrefix?: string;
  apiKeyFingerprint?: string;
  apiKeyId?: string;
  reasons: string[];
  evidence: Array<Record<string, unknown>>;
  blocked: boolean;
  /** Other requests in flight on the same key / session when this one started (the risk condition). */
  inflight: { apiKey: number; session: number };
  /**
   * The other requests this incident involves: a starved request's recipient (and back), the request whose
   * completion id this one carried, the request that taught an overturned name. Empty when none is known.
   */
  relatedRequestIds: string[];
  /** The same requests with the replica that served each and its trace id (in the order of `relatedRequestIds`). */
  relatedRequests?: RelatedRequest[];
  /** The replica that recorded this incident (with a shared store). */
  replica?: string;
  /** Completion ids this response carried (the first ones, bounded): `crosstalk probe` joins incidents on them. */
  completionIds: string[];
}

/** Completion ids and related request ids kept per incident at most. */
export const MAX_INCIDENT_IDS = 16;

/** A fixed-size ring of the newest incidents. */
export class IncidentLog {
  private readonly items: Incident[] = [];
  private total = 0;

  constructor(private readonly limit: number) {}

  add(incident: Incident): void {
    this.total++;
    this.items.push(incident);
    if (this.items.length > this.limit) this.items.shift();
  }

  /**
   * Adds a finding to the incident of `requestId` still held (a starvation partner, an overturned teacher): its
   * reason, evidence and related ids. False when the log holds no incident for it (the caller then adds one).
   */
  amend(requestId: string, reason: string, evidence: Record<string, unknown>, related: readonly RelatedRequest[]): boolean {
    for (let i = this.items.length - 1; i >= 0; i--) {
      const incident = this.items[i] as Incident;
      if (incident.requestId !== requestId) continue;
      if (!incident.reasons.includes(reason)) incident.reasons.push(reason);
      incident.evidence.push({ reason, ...evidence });
      for (const r of related) {
        if (incident.relatedRequestIds.includes(r.requestId) || incident.relatedRequestIds.length >= MAX_INCIDENT_IDS) continue;
        incident.relatedRequestIds.push(r.requestId);
        (incident.relatedRequests ??= []).push({ ...r });
      }
      return true;
    }
    return false;
  }

  /** Newest first. */
  list(limit = this.limit): Incident[] {
    return this.items.slice(-limit).reverse();
  }

  get count(): number {
    return this.total;
  }
}
