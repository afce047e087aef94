/**
 * Delivered completion ids for the whole `--completion-id-window`, whatever the volume (issue 13 item 8).
 *
 * Ids are kept as 64-bit hashes (two 32-bit lanes) in time buckets: the bucket being written is a Map from hash
 * to owner; when its time span passes it is sealed into three sorted typed arrays (hi, lo, owner) and searched by
 * bisection. A sealed id costs 12 bytes, an owner (one per request, not per id) about 100; a bucket falls out whole
 * once all its ids are older than the window. At 100,000 new ids a minute over a 10-minute window that is
 * ≈ 12 MB sealed plus one open bucket (≈ 100,000 × ~70 B) — see README "Crosstalk detection".
 *
 * The chance that two distinct ids share a 64-bit hash among 10^6 is ≈ 3·10^-8: a false collision is not a
 * practical concern, and a hash names no content.
 */
import type { Clock } from './registries.js';

/** Who an id was delivered to: enough for evidence and for the same-user replay exemption. */
export interface DeliveredOwner {
  requestId: string;
  /** Key fingerprint, when the deployment forwards one. */
  key?: string;
  session?: string;
  /** Normalized response model name. */
  model?: string;
  /**
   * The request's span as `<traceId>-<spanId>` (W3C hex), set only when the store is shared (issue 17 item 5): a
   * replica that finds this request involved links its own span to it. Ids only, never content.
   */
  trace?: string;
}

/** Two 32-bit lanes of a 64-bit hash of `text` (FNV-1a and a murmur3-finalized variant with another basis). */
export function hash64(text: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  b ^= b >>> 16;
  b = Math.imul(b, 0x85ebca6b);
  b ^= b >>> 13;
  b = Math.imul(b, 0xc2b2ae35);
  b ^= b >>> 16;
  return [a >>> 0, b >>> 0];
}

interface SealedBucket {
  /** The newest write in the bucket: it expires whole at `newest + windowMs`. */
  newest: number;
  hi: Uint32Array;
  lo: Uint32Array;
  owner: Uint32Array;
  owners: DeliveredOwner[];
}

interface OpenBucket {
  start: number;
  newest: number;
  /** hi lane → lo lane → owner index (`hi * 2^32 + lo` does not fit a double exactly; no bigint on the hot path). */
  byHi: Map<number, Map<number, number>>;
  owners: DeliveredOwner[];
  size: number;
}

export interface CompletionIdWindowOptions {
  windowMs: number;
  /** Buckets per window (default 10): memory overshoots the window by at most one bucket's span. */
  buckets?: number;
  now?: Clock;
}

export class CompletionIdWindow {
  private readonly windowMs: number;
  private readonly bucketMs: number;
  private readonly now: Clock;
  private sealed: SealedBucket[] = [];
  private open: OpenBucket;

  constructor(options: CompletionIdWindowOptions) {
    if (!(options.windowMs > 0)) throw new RangeError('windowMs must be positive');
    this.windowMs = options.windowMs;
    this.bucketMs = Math.max(1, Math.floor(options.windowMs / (options.buckets ?? 10)));
    this.now = options.now ?? Date.now;
    this.open = this.newBucket(this.now());
  }

  /** Ids held (sealed and open). */
  get size(): number {
    let n = this.open.size;
    for (const b of this.sealed) n += b.hi.length;
    return n;
  }

  /** Bytes held by the sealed arrays plus an estimate for the open bucket (for the README bound and tests). */
  approxBytes(): number {
    let bytes = this.open.size * 70 + this.open.owners.length * 100;
    for (const b of this.sealed) bytes += b.hi.length * 12 + b.owners.length * 100;
    return bytes;
  }

  /** Records ids delivered on one finished request. */
  add(ids: Iterable<string>, owner: DeliveredOwner): void {
    const now = this.now();
    this.rotate(now);
    const bucket = this.open;
    const ownerIndex = bucket.owners.push(owner) - 1;
    for (const id of ids) {
      const [hi, lo] = hash64(id);
      let inner = bucket.byHi.get(hi);
      if (inner === undefined) bucket.byHi.set(hi, (inner = new Map()));
      if (!inner.has(lo)) bucket.size++;
      inner.set(lo, ownerIndex);
    }
    bucket.newest = now;
  }

  /** The newest owner of `id` within the window, if any. */
  lookup(id: string): DeliveredOwner | undefined {
    this.rotate(this.now());
    const [hi, lo] = hash64(id);
    const open = this.open.byHi.get(hi)?.get(lo);
    if (open !== undefined) return this.open.owners[open];
    for (let i = this.sealed.length - 1; i >= 0; i--) {
      const b = this.sealed[i] as SealedBucket;
      const at = bisect(b.hi, b.lo, hi, lo);
      if (at !== -1) return b.owners[b.owner[at] as number];
    }
    return undefined;
  }

  private newBucket(start: number): OpenBucket {
    return { start, newest: start, byHi: new Map(), owners: [], size: 0 };
  }

  private rotate(now: number): void {
    if (now - this.open.start >= this.bucketMs) {
      if (this.open.size > 0) this.sealed.push(seal(this.open));
      this.open = this.newBucket(now);
    }
    const cutoff = now - this.windowMs;
    let drop = 0;
    while (drop < this.sealed.length && (this.sealed[drop] as SealedBucket).newest < cutoff) drop++;
    if (drop > 0) this.sealed = this.sealed.slice(drop);
  }
}

function seal(bucket: OpenBucket): SealedBucket {
  const n = bucket.size;
  const his = [...bucket.byHi.keys()].sort((x, y) => x - y);
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  const owner = new Uint32Array(n);
  let k = 0;
  for (const h of his) {
    const inner = bucket.byHi.get(h) as Map<number, number>;
    for (const l of [...inner.keys()].sort((x, y) => x - y)) {
      hi[k] = h;
      lo[k] = l;
      owner[k] = inner.get(l) as number;
      k++;
    }
  }
  return { newest: bucket.newest, hi, lo, owner, owners: bucket.owners };
}

function bisect(his: Uint32Array, los: Uint32Array, hi: number, lo: number): number {
  let a = 0;
  let b = his.length - 1;
  while (a <= b) {
    const m = (a + b) >>> 1;
    const h = his[m] as number;
    const l = los[m] as number;
    if (h === hi && l === lo) return m;
    if (h < hi || (h === hi && l < lo)) a = m + 1;
    else b = m - 1;
  }
  return -1;
}
