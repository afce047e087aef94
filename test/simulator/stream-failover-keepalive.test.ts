import { expect, it, onTestFinished } from 'vitest';
import { startSimulatedRouter } from '../../src/simulator/router.js';
import { SIM_FAULT, SIM_HEADER_FAULT } from '../../src/simulator/faults.js';
import { postJson } from './http.js';
import { parseSse } from './sse.js';

it('failover lines precede the content as plain data lines; keepAlive adds : ping comments', async () => {
  const router = await startSimulatedRouter({ auth: false, failoverLines: true, keepAlive: 2, chunks: 4 });
  onTestFinished(() => router.close());
  const res = await postJson(
    `${router.url}/v1/chat/completions`,
    { session_id: router.sessions.list()[0]?.id ?? '' },
    { stream: true, messages: [] },
  );
  const events = parseSse(res.body);
  expect(events[0]).toEqual({ data: 'provider failed, failover enabled', comments: [] });
  expect(events[1]?.data).toMatch(/^new session opened: 0x[0-9a-f]{64}$/);
  const shape = events.slice(2).map((e) => (e.data === undefined ? `:${e.comments.join()}` : e.data.slice(0, 1)));
  // ping, 2 chunks, ping, 2 chunks, ping, final chunk, [DONE]
  expect(shape).toEqual([':ping', '{', '{', ':ping', '{', '{', ':ping', '{', '[']);
});

it('the failover fault header adds the same lines to one request only', async () => {
  const router = await startSimulatedRouter({ auth: false, chunks: 1 });
  onTestFinished(() => router.close());
  const headers = { session_id: router.sessions.list()[0]?.id ?? '' };
  const url = `${router.url}/v1/chat/completions`;
  const faulty = await postJson(url, { ...headers, [SIM_HEADER_FAULT]: SIM_FAULT.FAILOVER }, { stream: true });
  const plain = await postJson(url, headers, { stream: true });
  expect(parseSse(faulty.body)[0]?.data).toBe('provider failed, failover enabled');
  expect(plain.body).not.toContain('failover');
});
