/**
 * Delivered completion ids for the whole `--completion-id-window`, whatever the volume (issue 13 item 8).
 *
 * Ids are kept as 64-bit hashes (two 32-bit lanes) in time buckets. The bucket being written appends to typed
 * arrays (hi, lo, owner, and a chain to the previous entry with the same hi lane) and indexes them by one Map from
 * the hi lane to its newest entry; when its time span passes it is sealed into sorted typed arrays (hi, lo, owner)
 * searched by bisection. Owners (one per request, not per id) are columns of a {@link DeliveredOwnerTable}. A
 * bucket falls out whole once all its ids are older than the window. Measured retained bytes at 100,000 new ids a
 * minute over a 10-minute window are in the README ("Memory bound") and asserted by
 * `test/inspect/completion-id-window-volume.test.ts`.
 *
 * The chance that two distinct ids share a 64-bit hash among 10^6 is ≈ 3·10^-8: a false collision is not a
 * practical concern, and a hash names no content.
 */
import { DeliveredOwnerTable, type DeliveredOwner } from './delivered-owners.js';
import type { Clock } from './registries.js';
import { doubled } from './typed-arrays.js';

export type { DeliveredOwner };

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
  /** Sorted by (hi, lo); one entry per distinct id, naming its newest owner. */
  hi: Uint32Array;
  lo: Uint32Array;
  owner: Uint32Array;
  owners: DeliveredOwnerTable;
}

const INITIAL_IDS = 256;
const NONE = -1;

/** The bucket being written: entries appended in order, a re-added id as a new entry (the newest wins). */
class OpenBucket {
  newest: number;
  hi = new Uint32Array(INITIAL_IDS);
  lo = new Uint32Array(INITIAL_IDS);
  owner = new Uint32Array(INITIAL_IDS);
  /** The previous entry with the same hi lane, or NONE. */
  prev = new Int32Array(INITIAL_IDS);
  entries = 0;
  /** Distinct ids among the entries. */
  distinct = 0;
  /** hi lane (as int32, so the key is a small integer) → its newest entry. */
  readonly heads = new Map<number, number>();
  readonly owners = new DeliveredOwnerTable();

  constructor(readonly start: number) {
    this.newest = start;
  }

  /** The newest entry of the id with these lanes, or NONE. */
  find(hi: number, lo: number): number {
    return this.along(this.heads.get(hi | 0) ?? NONE, lo);
  }

  append(hi: number, lo: number, owner: number): void {
    const head = this.heads.get(hi | 0) ?? NONE;
    if (this.along(head, lo) === NONE) this.distinct++;
    if (this.entries === this.hi.length) {
      this.hi = doubled(this.hi);
      this.lo = doubled(this.lo);
      this.owner = doubled(this.owner);
      this.prev = doubled(this.prev);
    }
    const at = this.entries++;
    this.hi[at] = hi;
    this.lo[at] = lo;
    this.owner[at] = owner;
    this.prev[at] = head;
    this.heads.set(hi | 0, at);
  }

  /** The first entry with lo lane `lo` on the chain from `at` (entries of one hi lane, newest first), or NONE. */
  private along(at: number, lo: number): number {
    while (at !== NONE && this.lo[at] !== lo) at = this.prev[at] as number;
    return at;
  }

  /** Sorted, one entry per distinct id (its newest), the owners' table sealed. */
  seal(): SealedBucket {
    const { hi, lo } = this;
    // Newest first, then a stable sort by (hi, lo): among equal ids the newest comes first and is the one kept.
    let order = new Uint32Array(this.entries);
    for (let i = 0; i < order.length; i++) order[i] = order.length - 1 - i;
    let spare = new Uint32Array(order.length);
    for (const [lane, shift] of [[lo, 0], [lo, 16], [hi, 0], [hi, 16]] as const) {
      radixPass(order, spare, lane, shift);
      [order, spare] = [spare, order];
    }
    const out = { hi: new Uint32Array(this.distinct), lo: new Uint32Array(this.distinct), owner: new Uint32Array(this.distinct) };
    let k = 0;
    for (let i = 0; i < order.length; i++) {
      const at = order[i] as number;
      if (k > 0 && out.hi[k - 1] === hi[at] && out.lo[k - 1] === lo[at]) continue;
      out.hi[k] = hi[at] as number;
      out.lo[k] = lo[at] as number;
      out.owner[k] = this.owner[at] as number;
      k++;
    }
    this.owners.seal();
    return { newest: this.newest, ...out, owners: this.owners };
  }
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
    this.open = new OpenBucket(this.now());
  }

  /** Ids held (sealed and open). */
  get size(): number {
    let n = this.open.distinct;
    for (const b of this.sealed) n += b.hi.length;
    return n;
  }

  /** Records ids delivered on one finished request. */
  add(ids: Iterable<string>, owner: DeliveredOwner): void {
    const now = this.now();
    this.rotate(now);
    const bucket = this.open;
    let ownerIndex = NONE;
    for (const id of ids) {
      if (ownerIndex === NONE) ownerIndex = bucket.owners.add(owner);
      const [hi, lo] = hash64(id);
      bucket.append(hi, lo, ownerIndex);
    }
    if (ownerIndex !== NONE) bucket.newest = now;
  }

  /** The newest owner of `id` within the window, if any (a new object on each call). */
  lookup(id: string): DeliveredOwner | undefined {
    this.rotate(this.now());
    const [hi, lo] = hash64(id);
    const open = this.open.find(hi, lo);
    if (open !== NONE) return this.open.owners.get(this.open.owner[open] as number);
    for (let i = this.sealed.length - 1; i >= 0; i--) {
      const b = this.sealed[i] as SealedBucket;
      const at = bisect(b.hi, b.lo, hi, lo);
      if (at !== -1) return b.owners.get(b.owner[at] as number);
    }
    return undefined;
  }

  private rotate(now: number): void {
    if (now - this.open.start >= this.bucketMs) {
      if (this.open.entries > 0) this.sealed.push(this.open.seal());
      this.open = new OpenBucket(now);
    }
    const cutoff = now - this.windowMs;
    let drop = 0;
    while (drop < this.sealed.length && (this.sealed[drop] as SealedBucket).newest < cutoff) drop++;
    if (drop > 0) this.sealed = this.sealed.slice(drop);
  }
}

const DIGITS = 1 << 16;
/** Scratch counts for {@link radixPass} (sealing runs once per bucket, on one thread). */
const counts = new Uint32Array(DIGITS + 1);

/**
 * One stable counting-sort pass of LSD radix sort: `from` reordered into `to` by the 16-bit digit of `lane[entry]`
 * at `shift`. Four passes (lo then hi, low digit first) sort by (hi, lo) in linear time: a comparator sort of one
 * bucket (~100,000 ids a minute) held the event loop ~30 ms, on the request path that seals it.
 */
function radixPass(from: Uint32Array, to: Uint32Array, lane: Uint32Array, shift: number): void {
  counts.fill(0);
  for (let i = 0; i < from.length; i++) {
    const next = (((lane[from[i] as number] as number) >>> shift) & 0xffff) + 1;
    counts[next] = (counts[next] as number) + 1;
  }
  for (let d = 1; d <= DIGITS; d++) counts[d] = (counts[d] as number) + (counts[d - 1] as number);
  for (let i = 0; i < from.length; i++) {
    const at = from[i] as number;
    const digit = ((lane[at] as number) >>> shift) & 0xffff;
    to[counts[digit] as number] = at;
    counts[digit] = (counts[digit] as number) + 1;
  }
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
