import { expect, it, onTestFinished } from 'vitest';
import { startSimulatedRouter } from '../../src/simulator/router.js';
import { SIM_FAULT, SIM_HEADER_CHUNKS, SIM_HEADER_FAULT } from '../../src/simulator/faults.js';
import { rawRequest } from './http.js';
import { contentChunks, jsonChunks, parseSse } from './sse.js';

async function start() {
  const router = await startSimulatedRouter({ auth: false });
  onTestFinished(() => router.close());
  const session = router.sessions.list()[0]?.id ?? '';
  const send = (fault: string, extra: { onData?: (s: string) => void; signal?: AbortSignal; stream?: boolean } = {}) =>
    rawRequest(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { session_id: session, [SIM_HEADER_CHUNKS]: '4', [SIM_HEADER_FAULT]: fault },
      body: JSON.stringify({ stream: extra.stream ?? true, messages: [{ role: 'user', content: 'hi' }] }),
      onData: extra.onData,
      signal: extra.signal,
    });
  return { router, send };
}

it('reset-mid-stream cuts the connection after n chunks', async () => {
  const { send } = await start();
  const res = await send(`${SIM_FAULT.RESET_MID_STREAM}:3`);
  expect(res.status).toBe(200);
  expect(res.complete).toBe(false);
  expect(contentChunks(res.body)).toHaveLength(3);
  expect(parseSse(res.body).some((e) => e.data === '[DONE]')).toBe(false);

  const half = await send(SIM_FAULT.RESET_MID_STREAM);
  expect(contentChunks(half.body)).toHaveLength(2);

  const json = await send(SIM_FAULT.RESET_MID_STREAM, { stream: false });
  expect(json.complete).toBe(false);
  expect(json.body.length).toBeGreaterThan(0);
});

it('stall-before-headers sends nothing until the client gives up; with :ms it answers late', async () => {
  const { router, send } = await start();
  const abort = new AbortController();
  const pending = send(SIM_FAULT.STALL_BEFORE_HEADERS, { signal: abort.signal });
  await expect.poll(() => router.stats.inFlight).toBe(1);
  abort.abort();
  const res = await pending;
  expect(res).toEqual({ status: 0, headers: {}, body: '', complete: false });

  const late = await send(`${SIM_FAULT.STALL_BEFORE_HEADERS}:20`);
  expect(late.status).toBe(200);
  expect(contentChunks(late.body)).toHaveLength(4);
});

it('stall-mid-stream stops after half the chunks; close() still ends the stalled response', async () => {
  const { router, send } = await start();
  let seen: () => void = () => undefined;
  const halfway = new Promise<void>((resolve) => (seen = resolve));
  const pending = send(SIM_FAULT.STALL_MID_STREAM, {
    onData: (soFar) => {
      if (jsonChunks(soFar).length === 2) seen();
    },
  });
  await halfway;
  await router.close();
  const res = await pending;
  expect(res.complete).toBe(false);
  expect(contentChunks(res.body)).toHaveLength(2);
});

it('stall-mid-stream:ms resumes and completes the stream', async () => {
  const { send } = await start();
  const res = await send(`${SIM_FAULT.STALL_MID_STREAM}:20`);
  expect(res.complete).toBe(true);
  expect(contentChunks(res.body)).toHaveLength(4);
});
