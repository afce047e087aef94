import { expect, it, onTestFinished } from 'vitest';
import { startSimulatedRouter } from '../../src/simulator/router.js';
import { SIM_FAULT, SIM_HEADER_FAULT } from '../../src/simulator/faults.js';
import { postJson } from './http.js';
import { jsonChunks } from './sse.js';

it('misbehaves on command through x-sim-fault without a restart', async () => {
  const router = await startSimulatedRouter({ auth: false });
  onTestFinished(() => router.close());
  const [own, other] = router.sessions.list();
  const url = `${router.url}/v1/chat/completions`;
  const send = (fault: string, stream = true) =>
    postJson(
      url,
      { session_id: own?.id ?? '', 'x-request-id': 'abc123', [SIM_HEADER_FAULT]: fault },
      { stream, messages: [{ role: 'user', content: 'hi' }] },
    );

  const wrongId = await send(SIM_FAULT.WRONG_REQUEST_ID);
  expect(wrongId.headers['x-request-id']).toMatch(/^[0-9a-f]{8}$/);
  expect(wrongId.headers['x-request-id']).not.toBe('abc123');

  const wrongSession = await send(SIM_FAULT.WRONG_SESSION);
  expect(wrongSession.headers['session_id']).toBe(other?.id);

  const model = await send(`${SIM_FAULT.MODEL}:gpt-4o-mini`);
  expect(jsonChunks(model.body).every((c) => c.model === 'gpt-4o-mini')).toBe(true);

  const requestIdInChunks = await send(`${SIM_FAULT.CHUNK_REQUEST_ID}:someone-else`);
  expect(jsonChunks(requestIdInChunks.body).every((c) => c.request_id === 'someone-else')).toBe(true);

  const jsonWithRequestId = await send(`${SIM_FAULT.CHUNK_REQUEST_ID}:r9`, false);
  expect((JSON.parse(jsonWithRequestId.body) as { request_id: string }).request_id).toBe('r9');

  const status = await send(`${SIM_FAULT.STATUS}:503`);
  expect(status.status).toBe(503);
  expect(JSON.parse(status.body)).toEqual({ error: 'simulated status 503' });
  expect(status.headers['x-request-id']).toBe('abc123');

  const combined = await send(`${SIM_FAULT.WRONG_SESSION}, ${SIM_FAULT.MODEL}:m2`);
  expect(combined.headers['session_id']).toBe(other?.id);
  expect(jsonChunks(combined.body)[0]?.model).toBe('m2');

  const unknown = await send('explode');
  expect(unknown.status).toBe(400);
  expect(JSON.parse(unknown.body)).toEqual({ error: "unknown x-sim-fault 'explode'" });

  const missingArg = await send(SIM_FAULT.MODEL);
  expect(JSON.parse(missingArg.body)).toEqual({ error: 'x-sim-fault model needs an argument' });
});
