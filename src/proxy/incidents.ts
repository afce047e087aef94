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
}

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

  /** Newest first. */
  list(limit = this.limit): Incident[] {
    return this.items.slice(-limit).reverse();
  }

  get count(): number {
    return this.total;
  }
}
