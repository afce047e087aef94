import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MODEL_ID, describeRedis, replica, runStream, session, startStream, sync, uniquePrefix, type Replica } from './harness.js';

// Issue 17 item 3: Redis killed mid-run and restarted. A private redis-server on its own loopback port, so the
// shared one keeps running for the other tests.
const PORT = 6390 + (process.pid % 50);
const URL_ = `redis://127.0.0.1:${PORT}`;

function startRedis(): ChildProcess {
  return spawn('redis-server', ['--port', String(PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
}

interface Logged {
  level: 'info' | 'warn';
  msg: string;
}

describeRedis('Redis killed mid-run and restarted', () => {
  let server: ChildProcess;
  let a: Replica;
  let b: Replica;
  const logs: Record<string, Logged[]> = { a: [], b: [] };
  const gauge: Record<string, boolean[]> = { a: [], b: [] };

  const withLog = (name: 'a' | 'b') => ({
    maxQueuedWrites: 200,
    logger: {
      info: (_: object, msg: string) => logs[name]?.push({ level: 'info', msg }),
      warn: (_: object, msg: string) => logs[name]?.push({ level: 'warn', msg }),
    },
    onUpChange: (up: boolean) => gauge[name]?.push(up),
  });

  beforeAll(async () => {
    server = startRedis();
    const prefix = uniquePrefix();
    a = replica('replica-a', prefix, URL_, withLog('a'));
    b = replica('replica-b', prefix, URL_, withLog('b'));
    await Promise.all([a.sync.whenUp(), b.sync.whenUp()]);
    for (let n = 1; n <= 20; n++) a.store.bindSession(session(n), { modelId: MODEL_ID, source: 'open' });
    for (let n = 1; n <= 5; n++) runStream(a, { requestId: `warm-${n}`, session: session(n), key: `key-w${n}`, id: `chatcmpl-warm-${n}-aa` });
    await sync(a, b);
  });

  afterAll(async () => {
    await Promise.all([a?.sync.close(), b?.sync.close()]);
    server?.kill('SIGKILL');
  });

  it('forwarding and local detection go on while Redis is away; the queue stays bounded; detection returns', async () => {
    const before = startStream(a, { requestId: 'before-a', session: session(10), key: 'key-1', id: 'chatcmpl-before-1-9f3a' });
    before.feed(1);
    await sync(a, b);
    expect(runStream(b, { requestId: 'before-b', session: session(11), key: 'key-2', id: 'chatcmpl-before-1-9f3a' }).map((f) => f.reason)).toEqual([
      'completion_id_collision',
    ]);
    before.end();

    // Kill Redis mid-run.
    server.kill('SIGKILL');
    await once(server, 'exit');
    await Promise.all([a.sync.whenUp(false), b.sync.whenUp(false)]);

    // 2 × 150 answers while it is away: every one is judged at once, none throws, writes queue up to the bound.
    const findings: string[] = [];
    for (let n = 0; n < 150; n++) {
      findings.push(...runStream(a, { requestId: `down-a-${n}`, session: session(100 + n), key: `ka-${n}`, id: `chatcmpl-down-a-${n}-c0de` }).map((f) => f.reason));
      findings.push(...runStream(b, { requestId: `down-b-${n}`, session: session(250 + n), key: `kb-${n}`, id: `chatcmpl-down-b-${n}-c0de` }).map((f) => f.reason));
      if (n % 10 === 0) expect(await a.sync.flush()).toBeUndefined();
    }
    expect(findings).toEqual([]);
    // Local detection still works on each replica alone.
    expect(runStream(a, { requestId: 'local-dup', session: session(12), key: 'key-3', id: 'chatcmpl-down-a-7-c0de' }).map((f) => f.reason)).toEqual([
      'completion_id_collision',
    ]);
    await a.sync.flush();
    const stats = a.sync.stats();
    expect(stats.up).toBe(false);
    expect(stats.queued).toBeLessThanOrEqual(200);
    expect(stats.dropped).toBeGreaterThan(0);

    // Redis comes back (empty): both replicas reconnect by themselves and share again.
    server = startRedis();
    await Promise.all([a.sync.whenUp(), b.sync.whenUp()]);
    const after = startStream(a, { requestId: 'after-a', session: session(13), key: 'key-4', id: 'chatcmpl-after-1-9f3a' });
    after.feed(1);
    await sync(a, b);
    expect(runStream(b, { requestId: 'after-b', session: session(14), key: 'key-5', id: 'chatcmpl-after-1-9f3a' }).map((f) => [f.reason, f.evidence.other_request_id])).toEqual([
      ['completion_id_collision', 'after-a'],
    ]);
    after.end();
    // The bounded backlog (the newest 200 writes) reached b too.
    expect(b.store.deliveredOwner('chatcmpl-down-a-149-c0de')?.requestId).toBe('down-a-149');

    // One gauge move and one log line per transition, per replica.
    for (const name of ['a', 'b'] as const) {
      expect(gauge[name]).toEqual([true, false, true]);
      const transitions = (logs[name] ?? []).filter((l) => l.msg.startsWith('shared detection store up') || l.msg.startsWith('shared detection store down'));
      // A `down` line may come first: the replicas may start before the fresh redis-server listens.
      const fromFirstUp = transitions.slice(transitions.findIndex((l) => l.level === 'info'));
      expect(fromFirstUp.map((l) => l.level)).toEqual(['info', 'warn', 'info']);
      expect(transitions.length - fromFirstUp.length).toBeLessThanOrEqual(1);
    }
  });
});

describeRedis('Redis unreachable from the start', () => {
  it('says so once (gauge never up, one log line), and judges every answer on its own knowledge', async () => {
    let said: (msg: string) => void = () => undefined;
    const line = new Promise<string>((resolve) => (said = resolve));
    const warns: string[] = [];
    const r = replica('replica-alone', uniquePrefix(), 'redis://127.0.0.1:1', {
      logger: { info: () => undefined, warn: (_: object, msg: string) => (warns.push(msg), said(msg)) },
    });
    expect(await line).toMatch(/^shared detection store down/);
    for (const n of [1, 2]) r.store.bindSession(session(n), { modelId: MODEL_ID, source: 'open' });
    for (let n = 0; n < 5; n++) expect(runStream(r, { requestId: `solo-${n}`, session: session(1), key: 'k', id: `chatcmpl-solo-${n}-ef` })).toEqual([]);
    expect(runStream(r, { requestId: 'solo-dup', session: session(2), key: 'k2', id: 'chatcmpl-solo-0-ef' }).map((f) => f.reason)).toEqual(['completion_id_collision']);
    expect(r.sync.isUp).toBe(false);
    await r.sync.close();
    expect(warns).toHaveLength(1);
  });
});
