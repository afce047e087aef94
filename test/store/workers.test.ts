import { spawn } from 'node:child_process';
import http from 'node:http';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { expect, it, onTestFinished } from 'vitest';
import { modelIdFor } from '../../src/simulator/index.js';
import { answer, startScriptedRouter, writeSse } from '../detection/scripted-router.js';
import { keyOf } from '../detection/e2e.js';
import { REDIS_URL, describeRedis } from './harness.js';
import { freePortPair } from '../helpers/child-ports.js';

// Issue 17 item 4: `crosstalk proxy --workers 2 --store redis://…` as a process: two workers on one port share
// detection through Redis; the primary's admin port sums /metrics and merges /incidents. Session look-ups are off:
// a worker that looks a session up learns its provider too, and the judge keys id habits by model and provider, so
// the habit would be split over two keys (see the report for issue 13).
const MODEL = 'qwen3-235b';
const BASIC = `Basic ${Buffer.from('admin:pw').toString('base64')}`;
const run = randomBytes(3).toString('hex');

/** One request on its own connection (agent: false), so the cluster spreads them over the workers. */
function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { 'content-type': 'application/json', ...headers }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never happened: ${what}`);
}

describeRedis('crosstalk proxy --workers 2', () => {
  it('serves one port from two workers that share detection; /metrics is their sum, /incidents all of theirs', async () => {
    // A Redis database of its own, emptied first: the default key prefix is used, as in production.
    const url = new URL(REDIS_URL as string);
    url.pathname = '/5';
    const redis = new Redis(url.toString());
    await redis.flushdb();
    redis.disconnect();

    const router = await startScriptedRouter({
      answer: (c) => {
        const replay = (c.headers['x-request-id'] as string).startsWith('replay');
        writeSse(c.res, answer({ model: c.model, id: () => (replay ? `chatcmpl-${run}-warm-0-a8f3e1` : `chatcmpl-${run}-${c.headers['x-request-id'] as string}-a8f3e1`) }));
      },
    });
    const port = await freePortPair();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'proxy', '--upstream', router.url, '--port', String(port), '--admin-port', String(port + 1), '--workers', '2', '--store', url.toString(), '--session-lookup', 'off', '--log-level', 'warn'],
      { env: { PATH: process.env.PATH ?? '', OTEL_TRACES_EXPORTER: 'none', CROSSTALK_FINGERPRINT_SECRET: 's' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => {
      if (stdout.length < 20_000) stdout += c.toString();
    });
    await until('admin up', async () => {
      if (child.exitCode !== null) throw new Error(`the proxy exited ${child.exitCode}: ${stderr} ${stdout}`);
      return (await send(port + 1, 'GET', '/healthz', {})).status === 200;
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${stderr}\n${stdout}`);
    });
    // Both workers listening: the shared port answers (proxied to the router) on several fresh connections.
    await until('workers up', async () => (await Promise.all([1, 2, 3, 4].map(() => send(port, 'GET', '/blockchain/models', {})))).every((r) => r.status === 200));

    const metricSum = async (prefix: string) =>
      (await send(port + 1, 'GET', '/metrics', {})).text
        .split('\n')
        .filter((l) => l.startsWith(prefix))
        .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    const synced = async (needle: string) => {
      // Wait until `needle` is on the shared stream and every record on it was read by the other worker (each
      // record is received by exactly one other worker: the summed counter equals the stream's records).
      const r = new Redis(url.toString());
      await until(`${needle} read by the other worker`, async () => {
        const entries = await r.xrange('crosstalk:writes', '-', '+');
        if (!JSON.stringify(entries).includes(needle)) return false;
        const records = entries.reduce((n, [, f]) => n + (JSON.parse(f[f.indexOf('w') + 1] as string) as unknown[]).length, 0);
        const got = await metricSum('crosstalk_store_records_total{direction="received"}');
        return got === records;
      });
      r.disconnect();
    };
    let requests = 4;
    const chat = async (id: string, key: string) => {
      const opened = await send(port, 'POST', `/blockchain/models/${modelIdFor(MODEL)}/session`, { authorization: BASIC }, { sessionDuration: 3600 });
      const session = (JSON.parse(opened.text) as { sessionID: string }).sessionID;
      // The chat may land on the other worker: let the session's binding reach it first (look-ups are off).
      await synced(session);
      const res = await send(port, 'POST', '/v1/chat/completions', {
        authorization: BASIC,
        accept: 'text/event-stream',
        session_id: session,
        'x-session-id': session,
        'x-api-key': key,
        'x-request-id': id,
      }, { messages: [{ role: 'user', content: 'hello' }], stream: true });
      requests += 2;
      return res;
    };
    // Six clean answers, spread over both workers (3 each): only together do they make the 5 a habit needs.
    for (let n = 0; n < 6; n++) expect((await chat(`warm-${n}`, keyOf(n))).status).toBe(200);
    // The answer delivered to warm-0 replayed to two other users, on two consecutive connections (two workers).
    // Each worker alone knew 3 answers (too few to call ids unique) and at most one of them held warm-0's id.
    await synced(`chatcmpl-${run}-warm-5-a8f3e1`);
    const r1 = await chat('replay-1', keyOf(50));
    const r2 = await chat('replay-2', keyOf(51));
    expect([r1.status, r2.status]).toEqual([200, 200]);

    await until('two incidents', async () => {
      const body = JSON.parse((await send(port + 1, 'GET', '/incidents', {})).text) as { total: number };
      return body.total >= 2;
    });
    const { incidents } = JSON.parse((await send(port + 1, 'GET', '/incidents', {})).text) as { incidents: { requestId: string; reasons: string[]; relatedRequestIds: string[] }[] };
    // replay-2 is paired with the newest owner of the id: replay-1 (the window keeps the latest delivery).
    expect(incidents.map((i) => [i.requestId, i.reasons, i.relatedRequestIds]).sort()).toEqual([
      ['replay-1', ['completion_id_collision'], ['warm-0']],
      ['replay-2', ['completion_id_collision'], ['replay-1']],
    ]);

    // The primary's /metrics is the sum over both workers: every request counted once.
    expect(await metricSum('crosstalk_proxy_requests_total{')).toBe(requests);
    // ...except the store gauge, the minimum over the workers: 1 only while every worker shares detection.
    expect(await metricSum('crosstalk_store_up ')).toBe(1);

    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect({ code, stderr }).toMatchObject({ code: 0 });
  }, 60_000);
});
