import { expect, it, onTestFinished } from 'vitest';
import { startSimulatedRouter } from '../../src/simulator/router.js';
import { postJson } from './http.js';
import { contentChunks, parseSse } from './sse.js';

it('older routers: CRLF line ends and no [DONE]', async () => {
  const router = await startSimulatedRouter({ auth: false, crlf: true, omitDone: true, chunks: 2 });
  onTestFinished(() => router.close());
  const res = await postJson(
    `${router.url}/v1/chat/completions`,
    { session_id: router.sessions.list()[0]?.id ?? '' },
    { stream: true, messages: [] },
  );
  expect(res.complete).toBe(true);
  expect(res.body.split('\r\n\r\n')).toHaveLength(4);
  expect(res.body.replaceAll('\r\n', '')).not.toContain('\n');
  expect(res.body.endsWith('}\r\n\r\n')).toBe(true);
  expect(parseSse(res.body).some((e) => e.data === '[DONE]')).toBe(false);
  expect(contentChunks(res.body)).toHaveLength(2);
});
