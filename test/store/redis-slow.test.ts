import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MODEL_ID, describeRedis, replica, runStream, session, sync, uniquePrefix, type Replica } from './harness.js';

// Issue 17 item 3, "slow": a Redis that stops answering (CLIENT PAUSE) for longer than the command timeout. The
// judge never waits; the write that timed out is queued again and reaches the other replica once Redis answers.
const PORT = 6440 + (process.pid % 50);
const URL_ = `redis://127.0.0.1:${PORT}`;

describeRedis('a Redis slower than the command timeout', () => {
  let server: ChildProcess;
  let admin: Redis;
  let a: Replica;
  let b: Replica;

  beforeAll(async () => {
    server = spawn('redis-server', ['--port', String(PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const prefix = uniquePrefix();
    a = replica('replica-a', prefix, URL_, { commandTimeoutMs: 200 });
    b = replica('replica-b', prefix, URL_, { commandTimeoutMs: 200 });
    await Promise.all([a.sync.whenUp(), b.sync.whenUp()]);
    admin = new Redis(URL_);
    for (let n = 1; n <= 10; n++) a.store.bindSession(session(n), { modelId: MODEL_ID, source: 'open' });
    for (let n = 1; n <= 5; n++) runStream(a, { requestId: `warm-${n}`, session: session(n), key: `k${n}`, id: `chatcmpl-warm-${n}-ab` });
    await sync(a, b);
  });

  afterAll(async () => {
    await Promise.all([a?.sync.close(), b?.sync.close()]);
    admin?.disconnect();
    server?.kill('SIGKILL');
  });

  it('judges at once while Redis is paused; the timed-out write is resent; no crash, detection returns', async () => {
    // Pause every client's commands for 1.5 s (longer than the 200 ms command timeout).
    await admin.call('CLIENT', 'PAUSE', '1500', 'ALL');
    // The judge and the store are synchronous: this answer is judged while Redis is paused, without waiting.
    expect(runStream(a, { requestId: 'during', session: session(6), key: 'k6', id: 'chatcmpl-during-slow-cd' })).toEqual([]);
    const errorsBefore = a.sync.stats().errors;
    expect(await a.sync.flush()).toBeUndefined();
    expect(a.sync.stats().errors).toBeGreaterThan(errorsBefore);
    expect(a.sync.stats().queued).toBeGreaterThan(0);
    // Once Redis answers again the queued write goes out and b learns the id: a replay to another user is caught.
    let id: string | undefined;
    while ((id = await a.sync.flush()) === undefined) await new Promise((r) => setTimeout(r, 50));
    await b.sync.caughtUp(id);
    expect(runStream(b, { requestId: 'replay', session: session(7), key: 'k7', id: 'chatcmpl-during-slow-cd' }).map((f) => [f.reason, f.evidence.other_request_id])).toEqual([
      ['completion_id_collision', 'during'],
    ]);
  });
});
