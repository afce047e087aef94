/**
 * Each upstream's completion-id habits, learned from clean answers (issue 13 item 5). Providers differ, benignly:
 * one id per stream or a new id per chunk (llama.cpp, SGLang); ids unique across requests, or one fixed id for
 * every response (`chatcmpl-1`), or small counters that restart. Collision and interleave rules mean something
 * only where the habit makes ids unique and stable; this says where.
 */

/** `stable`: one id per stream; `drifting`: ids change within streams; `unknown`: too few streams yet. */
export type IdStability = 'unknown' | 'stable' | 'drifting';
/** `unique`: no answer's id was seen on another request; `reused`: fixed ids or counters; `unknown`: too few. */
export type IdReuse = 'unknown' | 'unique' | 'reused';

/**
 * The key a provider's habit is learned and read under: the session's on-chain model and provider when known (several
 * providers serve one model, each with its own habit), else the answer's normalized model name; undefined when
 * neither is known. The judge and the shared store's late check both key by this.
 */
export function habitKeyOf(binding: { modelId?: string; provider?: string } | undefined, model: string | undefined): string | undefined {
  return binding?.modelId !== undefined ? `${binding.modelId}|${binding.provider ?? ''}` : model;
}

export interface IdHabit {
  stability: IdStability;
  reuse: IdReuse;
  streams: number;
}

/** What one clean, finished answer showed about its ids. */
export interface IdObservation {
  /** Content chunks carried more than one id (a usage-only chunk's own id does not count). */
  drifted: boolean;
  /** Its first id was already delivered to another request within the window. */
  reused: boolean;
  /** Its first id looks like a small counter or a fixed value (`chatcmpl-1`, `7`, `cmpl-000042`). */
  counterLike: boolean;
}

export interface IdHabitOptions {
  /** Streams needed before a habit is called (default 5). */
  minStreams?: number;
  /** Upstreams held at most (default 10,000). */
  maxUpstreams?: number;
}

interface Tally {
  streams: number;
  drifted: number;
  reused: number;
}

/** At most this many digits after a short prefix: a counter, not a random id. */
const COUNTER_DIGITS = 6;

/** `chatcmpl-1`, `cmpl-000042`, `7`: a prefix of letters/dashes/underscores, then at most 6 digits. */
export function isCounterLike(id: string): boolean {
  let i = id.length;
  while (i > 0) {
    const c = id.charCodeAt(i - 1);
    if (c < 0x30 || c > 0x39) break;
    i--;
  }
  const digits = id.length - i;
  if (digits === 0 || digits > COUNTER_DIGITS) return false;
  for (let j = 0; j < i; j++) {
    const c = id.charCodeAt(j);
    const letter = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x2d || c === 0x5f;
    if (!letter) return false;
  }
  return i <= 16;
}

export class IdHabits {
  private readonly minStreams: number;
  private readonly maxUpstreams: number;
  private readonly tallies = new Map<string, Tally>();

  constructor(options: IdHabitOptions = {}) {
    this.minStreams = options.minStreams ?? 5;
    this.maxUpstreams = options.maxUpstreams ?? 10_000;
  }

  habit(upstream: string): IdHabit {
    const t = this.tallies.get(upstream);
    if (t === undefined || t.streams < this.minStreams) {
      return { stability: 'unknown', reuse: t !== undefined && t.reused >= 2 ? 'reused' : 'unknown', streams: t?.streams ?? 0 };
    }
    const stability: IdStability = t.drifted === 0 ? 'stable' : 'drifting';
    // Unique only when no clean answer ever reused an id; two reuses settle "reused" even before minStreams.
    const reuse: IdReuse = t.reused === 0 ? 'unique' : t.reused >= 2 || t.reused * 10 >= t.streams ? 'reused' : 'unknown';
    return { stability, reuse, streams: t.streams };
  }

  /** Only answers with no finding teach (a foreign answer must not teach a habit that hides the next one). */
  observe(upstream: string, o: IdObservation): void {
    let t = this.tallies.get(upstream);
    if (t === undefined) {
      if (this.tallies.size >= this.maxUpstreams) {
        const oldest = this.tallies.keys().next().value;
        if (oldest !== undefined) this.tallies.delete(oldest);
      }
      this.tallies.set(upstream, (t = { streams: 0, drifted: 0, reused: 0 }));
    }
    t.streams++;
    if (o.drifted) t.drifted++;
    if (o.reused || o.counterLike) t.reused++;
  }
}
