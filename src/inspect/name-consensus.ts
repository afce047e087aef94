/**
 * Which response model names each on-chain model id produces, per provider (issue 13 item 2). Several providers
 * serve one model under different names, and a provider's LLM server reports its own name, not the on-chain
 * `Name`, so the names are learned from answers, by quorum across sessions: no single answer can set a name that
 * later flags others. When a quorum forms, the earlier answers that voted for another name are overturned: their
 * requests get the incident (`model_mismatch`, `rule: overturned`), never the innocent answers that followed.
 */

export interface NameVote {
  requestId: string;
  session: string;
}

/** A vote a quorum overturned, with the name it taught. */
export interface OverturnedVote extends NameVote {
  name: string;
}

export type NameVerdict =
  /** The name is the quorum's (or, with no quorum yet, not contradicted). */
  | { kind: 'known' }
  /** No quorum yet for this model id and provider: the vote is held. */
  | { kind: 'pending' }
  /** A quorum exists and this name is not one of its names. */
  | { kind: 'foreign'; expected: string }
  /** The name is the quorum name of another model id, and has no support here: a cross-model answer. */
  | { kind: 'other_model'; expected: string | undefined; otherModelId: string };

export interface ConsensusOptions {
  /** Distinct sessions that must agree on a name before it is known (default 2). */
  quorum?: number;
  /** Model ids × providers held at most (default 10,000); the oldest is dropped. */
  maxKeys?: number;
  /** Votes kept per name (the requests an overturn may blame; default 32). */
  maxVotesPerName?: number;
}

interface NameTally {
  sessions: Set<string>;
  votes: NameVote[];
}

interface KeyState {
  names: Map<string, NameTally>;
  /** The quorum's names (several when a provider reports more than one form). */
  known: Set<string>;
}

const SEP = '\u0000';

export class NameConsensus {
  private readonly quorum: number;
  private readonly maxKeys: number;
  private readonly maxVotes: number;
  private readonly byKey = new Map<string, KeyState>();
  /** Known name → the model ids whose quorum it is (any provider). */
  private readonly modelsOfName = new Map<string, Set<string>>();

  constructor(options: ConsensusOptions = {}) {
    this.quorum = Math.max(1, options.quorum ?? 2);
    this.maxKeys = options.maxKeys ?? 10_000;
    this.maxVotes = options.maxVotesPerName ?? 32;
  }

  private key(modelId: string, provider: string | undefined): string {
    return `${modelId}${SEP}${provider ?? ''}`;
  }

  private state(modelId: string, provider: string | undefined, create: boolean): KeyState | undefined {
    const k = this.key(modelId, provider);
    let s = this.byKey.get(k);
    if (s === undefined && create) {
      if (this.byKey.size >= this.maxKeys) {
        const oldest = this.byKey.keys().next().value;
        if (oldest !== undefined) this.byKey.delete(oldest);
      }
      s = { names: new Map(), known: new Set() };
      this.byKey.set(k, s);
    }
    return s;
  }

  /** The names known (by quorum) for a model id: for one provider, or for any when the provider is unknown. */
  knownNames(modelId: string, provider?: string): string[] {
    if (provider !== undefined) return [...(this.state(modelId, provider, false)?.known ?? [])];
    const out = new Set<string>();
    const prefix = `${modelId}${SEP}`;
    for (const [k, s] of this.byKey) if (k.startsWith(prefix)) for (const n of s.known) out.add(n);
    return [...out];
  }

  /** Judges `name` (normalized) for an answer on a session bound to `modelId`, without voting. */
  judge(modelId: string, provider: string | undefined, name: string): NameVerdict {
    const known = this.knownNames(modelId, provider);
    if (known.includes(name)) return { kind: 'known' };
    const others = this.modelsOfName.get(name);
    if (others !== undefined) {
      for (const other of others) {
        if (other !== modelId && !this.hasSupport(modelId, name)) {
          return { kind: 'other_model', expected: known[0], otherModelId: other };
        }
      }
    }
    if (known.length > 0) {
      // Another provider of the same model may report this name: only a quorum for this provider rules it out.
      if (provider === undefined || (this.state(modelId, provider, false)?.known.size ?? 0) > 0) {
        return { kind: 'foreign', expected: known[0] as string };
      }
    }
    return { kind: 'pending' };
  }

  private hasSupport(modelId: string, name: string): boolean {
    const prefix = `${modelId}${SEP}`;
    for (const [k, s] of this.byKey) if (k.startsWith(prefix) && s.names.has(name)) return true;
    return false;
  }

  /**
   * A clean answer on `session` (bound to `modelId`) reported `name`. Returns the votes overturned by a quorum this
   * vote completed: the requests that taught another name, to be flagged instead.
   */
  vote(modelId: string, provider: string | undefined, name: string, vote: NameVote): OverturnedVote[] {
    const s = this.state(modelId, provider, true) as KeyState;
    let tally = s.names.get(name);
    if (tally === undefined) s.names.set(name, (tally = { sessions: new Set(), votes: [] }));
    tally.sessions.add(vote.session);
    if (tally.votes.length < this.maxVotes) tally.votes.push(vote);
    if (s.known.has(name) || tally.sessions.size < this.quorum) return [];
    // A quorum needs more sessions than any rival name.
    for (const [other, t] of s.names) if (other !== name && t.sessions.size >= tally.sessions.size) return [];
    s.known.add(name);
    let models = this.modelsOfName.get(name);
    if (models === undefined) this.modelsOfName.set(name, (models = new Set()));
    models.add(modelId);
    const overturned: OverturnedVote[] = [];
    for (const [other, t] of s.names) {
      if (other === name || s.known.has(other)) continue;
      for (const v of t.votes) overturned.push({ ...v, name: other });
      s.names.delete(other);
    }
    return overturned;
  }

  /** Declares names for a model id (from configuration aliases or a shared store); they count as a quorum. */
  seed(modelId: string, provider: string | undefined, name: string): void {
    const s = this.state(modelId, provider, true) as KeyState;
    s.known.add(name);
    let models = this.modelsOfName.get(name);
    if (models === undefined) this.modelsOfName.set(name, (models = new Set()));
    models.add(modelId);
  }

  get size(): number {
    return this.byKey.size;
  }
}
