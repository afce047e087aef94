/**
 * Ships a {@link SharedDetectionStore}'s writes to Redis and folds the other replicas' writes in (issue 17), off
 * the byte path: the proxy never awaits anything here.
 *
 * - Out: every `flushEveryMs`, the writes since the last flush go as one XADD entry on one stream (pipelined with
 *   the session keys' SETs and the stream's PEXPIRE): a few round trips a second whatever the chunk rate. The
 *   stream is trimmed by time (`MINID ~ now − window`), so entries live as long as the completion-id window;
 *   session and bid bindings are also kept as keys with a TTL of the session-binding window, for replicas that
 *   start later.
 * - In: a second connection blocks on XREAD from the last entry seen; at start it reads from `now − window`, so a
 *   new or restarted replica learns the window's state. Entries are validated record by record (records.ts).
 * - Redis down, slow or restarted: commands fail fast (no offline queue, a command timeout), forwarding and local
 *   detection go on, writes wait in a bounded queue (oldest dropped, counted), the up/down gauge moves and one log
 *   line says so on each transition; ioredis reconnects by itself and the queue drains.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { decodeBatch, encodeBatch, validateWrite, type SharedWrite } from './records.js';
import type { SharedDetectionStore } from './shared-store.js';

export interface SyncLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface RedisSyncOptions {
  /** `redis://[user:pass@]host:port[/db]` (the password is never logged). */
  url: string;
  store: SharedDetectionStore;
  /** How long entries live: the completion-id window. */
  streamWindowMs: number;
  /** How long session and bid keys live: the session-binding window. */
  sessionWindowMs: number;
  /** Key prefix (default `crosstalk:`): replicas that share detection share it. */
  keyPrefix?: string;
  /** Flush period (default 20 ms). */
  flushEveryMs?: number;
  /** XREAD BLOCK time (default 1000 ms). */
  blockMs?: number;
  /** Writes held while Redis is away (default 50,000); past it the oldest are dropped and counted. */
  maxQueuedWrites?: number;
  /** Writes per XADD entry at most (default 2,000). */
  maxWritesPerEntry?: number;
  /** A command not answered in this time fails (default 1000 ms). */
  commandTimeoutMs?: number;
  logger?: SyncLogger;
  /** Records counted as they happen (the `crosstalk_store_records_total{direction}` counter). */
  onRecords?: (direction: 'sent' | 'received' | 'dropped' | 'rejected', n: number) => void;
  /** Called with the new state on each up/down transition (the `crosstalk_store_up` gauge). */
  onUpChange?: (up: boolean) => void;
  now?: () => number;
}

export interface SyncStats {
  up: boolean;
  queued: number;
  dropped: number;
  sentWrites: number;
  sentEntries: number;
  receivedEntries: number;
  rejectedRecords: number;
  errors: number;
}

/** A replica id: host, pid and a random suffix (a restarted process is a new replica and replays the window). */
export function defaultReplicaId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** `host:port` of a Redis URL, for logs (never the credentials). */
export function redisEndpoint(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '6379'}`;
  } catch {
    return 'redis';
  }
}

/** Stream entry ids `ms-seq` compare by both parts. */
export function compareEntryIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  return Number(am) - Number(bm) || Number(as) - Number(bs);
}

export class RedisSync {
  private readonly o: Required<Omit<RedisSyncOptions, 'logger' | 'onUpChange' | 'onRecords'>> & Pick<RedisSyncOptions, 'logger' | 'onUpChange' | 'onRecords'>;
  private readonly writer: Redis;
  private readonly reader: Redis;
  private readonly streamKey: string;
  private queue: SharedWrite[] = [];
  private flushing: Promise<string | undefined> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastId: string;
  private lastSentId: string | undefined;
  private up = false;
  /** The down line was logged and no up line since (one line per transition). */
  private saidDown = false;
  private closed = false;
  private readonly waiters: { id: string; resolve: () => void }[] = [];
  private upWaiters: { up: boolean; resolve: () => void }[] = [];
  private readonly stats_ = { dropped: 0, sentWrites: 0, sentEntries: 0, receivedEntries: 0, rejectedRecords: 0, errors: 0 };
  private readLoop: Promise<void> | undefined;
  private readonly endpoint: string;

  constructor(options: RedisSyncOptions) {
    this.o = {
      keyPrefix: 'crosstalk:',
      flushEveryMs: 20,
      blockMs: 1000,
      maxQueuedWrites: 50_000,
      maxWritesPerEntry: 2000,
      commandTimeoutMs: 1000,
      now: Date.now,
      ...options,
    };
    this.streamKey = `${this.o.keyPrefix}writes`;
    this.endpoint = redisEndpoint(options.url);
    const common: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: 2000,
      retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    };
    this.writer = new Redis(options.url, { ...common, commandTimeout: this.o.commandTimeoutMs, connectionName: 'crosstalk-writer' });
    this.reader = new Redis(options.url, { ...common, commandTimeout: this.o.blockMs + this.o.commandTimeoutMs, connectionName: 'crosstalk-reader' });
    for (const client of [this.writer, this.reader]) {
      client.on('error', () => {
        this.stats_.errors++;
        // Unreachable from the start: no up → down transition happens, so say it once here.
        if (!this.up && !this.saidDown && !this.closed) {
          this.saidDown = true;
          this.o.logger?.warn({ store: this.endpoint }, 'shared detection store down: detection goes on with this replica\'s own knowledge');
        }
      });
      client.on('ready', () => this.updateUp());
      client.on('close', () => this.updateUp());
      client.on('end', () => this.updateUp());
    }
    this.lastId = `${Math.max(0, this.o.now() - this.o.streamWindowMs)}-0`;
    options.store.transport = this;
  }

  /** Connects (never throws: a Redis that is away comes back by itself) and starts the flush and read loops. */
  start(): void {
    if (this.timer !== undefined || this.closed) return;
    this.o.logger?.info({ store: this.endpoint, replica: this.o.store.replica }, 'shared detection store: connecting');
    this.writer.connect().catch(() => undefined);
    this.reader.connect().catch(() => undefined);
    this.timer = setInterval(() => void this.flush(), this.o.flushEveryMs);
    this.timer.unref();
    this.readLoop = this.runReader();
  }

  get isUp(): boolean {
    return this.up;
  }

  /** Resolves when shared detection is up (`true`) or down (`false`); at once if it already is. */
  whenUp(up = true): Promise<void> {
    if (this.up === up || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.upWaiters.push({ up, resolve }));
  }

  stats(): SyncStats {
    return { up: this.up, queued: this.queue.length, ...this.stats_ };
  }

  private updateUp(): void {
    const up = !this.closed && this.writer.status === 'ready' && this.reader.status === 'ready';
    if (up === this.up) return;
    this.up = up;
    if (this.closed) return;
    if (up) this.o.logger?.info({ store: this.endpoint, queued: this.queue.length }, 'shared detection store up: sharing with other replicas');
    else if (!this.saidDown) this.o.logger?.warn({ store: this.endpoint }, 'shared detection store down: detection goes on with this replica\'s own knowledge');
    this.saidDown = !up;
    this.o.onUpChange?.(up);
    const waiting = this.upWaiters;
    this.upWaiters = waiting.filter((w) => w.up !== up);
    for (const w of waiting) if (w.up === up) w.resolve();
  }

  private enqueue(writes: SharedWrite[], front = false): void {
    if (writes.length === 0) return;
    this.queue = front ? writes.concat(this.queue) : this.queue.concat(writes);
    const over = this.queue.length - this.o.maxQueuedWrites;
    if (over > 0) {
      this.queue.splice(0, over);
      this.stats_.dropped += over;
      this.o.onRecords?.('dropped', over);
    }
  }

  /**
   * Ships the writes queued so far (one pipeline at a time; a call during one waits for it, then sends the rest).
   * Resolves with this replica's last entry id once everything queued at the call is written (another replica
   * that has read up to it has seen all of it), or undefined when some could not be written (Redis away: the
   * writes stay queued) or nothing was ever written. Never rejects.
   */
  flush(): Promise<string | undefined> {
    this.enqueue(this.o.store.drainShared());
    if (this.flushing !== undefined) return this.flushing.then(() => this.flush());
    if (this.closed) return Promise.resolve(undefined);
    if (this.queue.length === 0) return Promise.resolve(this.lastSentId);
    if (!this.up) return Promise.resolve(undefined);
    const batch = this.queue;
    this.queue = [];
    this.flushing = this.send(batch).finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async send(batch: SharedWrite[]): Promise<string | undefined> {
    const now = this.o.now();
    const pipe = this.writer.pipeline();
    const minId = String(Math.max(0, now - this.o.streamWindowMs));
    const entries: number[] = [];
    for (let i = 0; i < batch.length; i += this.o.maxWritesPerEntry) {
      const writes = batch.slice(i, i + this.o.maxWritesPerEntry);
      pipe.xadd(this.streamKey, 'MINID', '~', minId, '*', ...encodeBatch({ replica: this.o.store.replica, writes }));
      entries.push(writes.length);
    }
    pipe.pexpire(this.streamKey, this.o.streamWindowMs);
    for (const w of batch) {
      if (w.op === 'session') {
        const merged = this.o.store.local.session(w.session) ?? w.binding;
        pipe.set(`${this.o.keyPrefix}s:${w.session}`, JSON.stringify(merged), 'PX', this.o.sessionWindowMs);
      } else if (w.op === 'bid') {
        pipe.set(`${this.o.keyPrefix}b:${w.bidId}`, JSON.stringify(w), 'PX', this.o.sessionWindowMs);
      }
    }
    try {
      const results = (await pipe.exec()) ?? [];
      let allSent = true;
      for (let k = 0; k < entries.length; k++) {
        const [err, id] = results[k] ?? [new Error('no reply')];
        if (err === null && typeof id === 'string') {
          this.lastSentId = id;
          this.stats_.sentEntries++;
          this.stats_.sentWrites += entries[k] as number;
          this.o.onRecords?.('sent', entries[k] as number);
        } else {
          this.stats_.errors++;
          allSent = false;
          // Requeue the writes of entries that failed (at the front, still bounded).
          const start = entries.slice(0, k).reduce((a, b) => a + b, 0);
          this.enqueue(batch.slice(start, start + (entries[k] as number)), true);
        }
      }
      return allSent ? this.lastSentId : undefined;
    } catch {
      this.stats_.errors++;
      this.enqueue(batch, true);
      return undefined;
    }
  }

  /** Resolves once this replica has read the stream up to entry `id` (written by any replica). */
  caughtUp(id: string): Promise<void> {
    if (compareEntryIds(this.lastId, id) >= 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ id, resolve }));
  }

  private waitReady(client: Redis): Promise<void> {
    if (client.status === 'ready' || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        client.off('ready', done);
        client.off('end', done);
        resolve();
      };
      client.once('ready', done);
      client.once('end', done);
    });
  }

  private async runReader(): Promise<void> {
    let bootstrapped = false;
    while (!this.closed) {
      await this.waitReady(this.reader);
      if (this.closed) break;
      try {
        if (!bootstrapped) {
          await this.bootstrapSessions();
          bootstrapped = true;
        }
        const reply = await this.reader.xread('COUNT', 1000, 'BLOCK', this.o.blockMs, 'STREAMS', this.streamKey, this.lastId);
        this.onEntries(reply);
      } catch {
        this.stats_.errors++;
        // A failed read (timeout, wrong type, connection lost) is retried after a pause, never in a hot loop.
        if (!this.closed) await new Promise((r) => setTimeout(r, 200).unref());
      }
    }
  }

  private onEntries(reply: unknown): void {
    if (reply === null || !Array.isArray(reply)) return;
    for (const stream of reply) {
      const items: unknown = Array.isArray(stream) ? stream[1] : undefined;
      if (!Array.isArray(items)) continue;
      for (const item of items) {
        const id: unknown = Array.isArray(item) ? item[0] : undefined;
        if (typeof id !== 'string' || !/^\d+-\d+$/.test(id)) {
          this.reject(1);
          continue;
        }
        if (compareEntryIds(id, this.lastId) > 0) this.lastId = id;
        this.stats_.receivedEntries++;
        const { batch, rejected } = decodeBatch((item as unknown[])[1]);
        this.reject(rejected);
        if (batch === undefined || batch.replica === this.o.store.replica) continue;
        this.o.store.applyBatch(batch);
        this.o.onRecords?.('received', batch.writes.length);
      }
    }
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i] as { id: string; resolve: () => void };
      if (compareEntryIds(this.lastId, w.id) >= 0) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  private reject(n: number): void {
    if (n === 0) return;
    this.stats_.rejectedRecords += n;
    this.o.onRecords?.('rejected', n);
  }

  /** Session and bid bindings other replicas learned before this one started (keys with the binding TTL). */
  private async bootstrapSessions(): Promise<void> {
    let cursor = '0';
    let seen = 0;
    do {
      const [next, keys] = await this.reader.scan(cursor, 'MATCH', `${this.o.keyPrefix}[sb]:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      const values = await this.reader.mget(...keys);
      const writes: SharedWrite[] = [];
      keys.forEach((key, i) => {
        const raw = values[i];
        if (typeof raw !== 'string' || raw.length > 4096) return;
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw);
        } catch {
          this.reject(1);
          return;
        }
        const isSession = key.startsWith(`${this.o.keyPrefix}s:`);
        const w = validateWrite(isSession ? { op: 'session', session: key.slice(this.o.keyPrefix.length + 2), binding: parsed } : parsed);
        if (w === undefined || (w.op !== 'session' && w.op !== 'bid')) this.reject(1);
        else writes.push(w);
      });
      if (writes.length > 0) this.o.store.applyBatch({ replica: '', writes });
      seen += keys.length;
    } while (cursor !== '0' && seen < 1_000_000 && !this.closed);
  }

  /** Sends what is queued (best effort, bounded by the command timeout) and disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.flush();
    this.closed = true;
    this.up = false;
    for (const w of this.waiters.splice(0)) w.resolve();
    for (const w of this.upWaiters.splice(0)) w.resolve();
    this.writer.disconnect();
    this.reader.disconnect();
    await this.readLoop;
  }
}
