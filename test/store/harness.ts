/**
 * Two (or more) replicas' detection sharing one Redis, driven at the Detection level: each replica has its own
 * SharedDetectionStore, RedisSync and Detection; `sync(a, b)` flushes a's writes and waits until b has read them
 * (ordered by stream entry ids, never by sleeping).
 */
import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';
import { fieldsFromObject } from '../../src/inspect/chunk-fields.js';
import { Detection } from '../../src/inspect/detection.js';
import type { Finding } from '../../src/inspect/detectors.js';
import { RedisSync, type RedisSyncOptions } from '../../src/store/redis-sync.js';
import { SharedDetectionStore, type LateFinding } from '../../src/store/shared-store.js';

export const REDIS_URL = process.env.REDIS_URL;

/** `describe` when REDIS_URL is set; otherwise skipped, saying why. */
export const describeRedis: typeof describe = (REDIS_URL === undefined ? describe.skip : describe) as typeof describe;
if (REDIS_URL === undefined) console.warn('test/store: REDIS_URL is not set: the shared-store tests against Redis are skipped');

export const MODEL_ID = `0x${'4d'.repeat(32)}`;
export const session = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;

export interface Replica {
  name: string;
  store: SharedDetectionStore;
  sync: RedisSync;
  detection: Detection;
  late: LateFinding[];
}

export function uniquePrefix(): string {
  return `crosstalk-test:${randomBytes(4).toString('hex')}:`;
}

export function replica(name: string, prefix: string, url = REDIS_URL as string, extra: Partial<RedisSyncOptions> = {}): Replica {
  const store = new SharedDetectionStore({ replica: name });
  const sync = new RedisSync({ url, store, keyPrefix: prefix, streamWindowMs: 600_000, sessionWindowMs: 3_600_000, ...extra });
  const detection = new Detection({ store, sessionScope: 'key' });
  const late: LateFinding[] = [];
  store.onLateFinding((l) => late.push(l));
  sync.start();
  return { name, store, sync, detection, late };
}

/** a's writes so far are applied on b (and every other replica given). */
export async function sync(a: Replica, ...others: Replica[]): Promise<void> {
  const id = await a.sync.flush();
  if (id !== undefined) await Promise.all(others.map((b) => b.sync.caughtUp(id)));
}


/** The model every chunk of {@link startStream} names. */
export const STREAM_MODEL = 'llama-3.3-70b';

function chunk(id: string, content: string, finish: boolean) {
  return fieldsFromObject({
    id,
    object: 'chat.completion.chunk',
    model: STREAM_MODEL,
    choices: [{ index: 0, delta: finish ? {} : { content }, finish_reason: finish ? 'stop' : null }],
  });
}

export interface StreamSpec {
  requestId: string;
  session: string;
  /** Key fingerprint; absent as behind the gateway, which sends no key header. */
  key?: string;
  /** The completion id every chunk carries. */
  id: string;
  chunks?: number;
}

/** A judge for one streamed answer; `feed(n)` delivers n content chunks, `end()` the finish chunk and the end. */
export function startStream(r: Pick<Replica, 'detection'>, spec: StreamSpec) {
  const judge = r.detection.begin({
    requestId: spec.requestId,
    sessionId: spec.session,
    ...(spec.key !== undefined && { keyFingerprint: spec.key }),
  });
  const findings: Finding[] = [...judge.checkRequest()];
  judge.onStatus(200);
  return {
    judge,
    findings,
    feed(n = 1) {
      for (let i = 0; i < n; i++) findings.push(...judge.onChunk(chunk(spec.id, 'tok', false) as never));
    },
    end() {
      findings.push(...judge.onChunk(chunk(spec.id, '', true) as never));
      findings.push(...judge.finish(findings.length === 0).findings);
      return findings;
    },
  };
}

/**
 * One answer duplicated across replicas: `first` streams through `from` (two chunks), the replicas sync, then
 * `second` carries the same completion id through `to` (one chunk). Both streams are left open.
 */
export async function duplicateAcross(from: Replica, to: Replica, first: StreamSpec, second: Omit<StreamSpec, 'id'>) {
  const onFrom = startStream(from, first);
  onFrom.feed(2);
  await sync(from, to);
  const onTo = startStream(to, { ...second, id: first.id });
  onTo.feed(1);
  return { first: onFrom, second: onTo };
}

/** One whole stream; returns its findings. */
export function runStream(r: Pick<Replica, 'detection'>, spec: StreamSpec): Finding[] {
  const s = startStream(r, spec);
  s.feed(spec.chunks ?? 3);
  return s.end();
}
