import { expect, it, onTestFinished } from 'vitest';
import { startSimulatedRouter } from '../../src/simulator/router.js';
import type { ReceivedRequest } from '../../src/simulator/options.js';
import { postJson } from './http.js';

it('records what each request carried, for assertions on what a proxy forwarded', async () => {
  const fromOption: ReceivedRequest[] = [];
  const router = await startSimulatedRouter({ onRequest: (r) => fromOption.push(r), recordLimit: 2 });
  onTestFinished(() => router.close());
  const fromListener: string[] = [];
  const off = router.onRequest((r) => fromListener.push(r.path));
  const session = router.sessions.list()[0]?.id ?? '';
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  await postJson(`${router.url}/v1/chat/completions?session_id=${session}`, { ...router.chatHeaders(session), 'x-request-id': 'rid-1', traceparent }, {
    stream: true,
  });
  off();
  await postJson(`${router.url}/v1/embeddings`, router.chatHeaders(session), { input: 'x' });
  await postJson(`${router.url}/nowhere`, {}, {});

  expect(fromListener).toEqual(['/v1/chat/completions']);
  expect(fromOption.map((r) => r.path)).toEqual(['/v1/chat/completions', '/v1/embeddings', '/nowhere']);
  const first = fromOption[0];
  expect(first?.method).toBe('POST');
  expect(first?.query).toBe(`session_id=${session}`);
  expect(first?.headers).toMatchObject({
    'x-request-id': 'rid-1',
    traceparent,
    authorization: router.chatHeaders(session).authorization,
    session_id: session,
    'x-session-id': session,
  });
  expect(router.requests.map((r) => r.path)).toEqual(['/v1/embeddings', '/nowhere']);
  expect(router.stats).toMatchObject({ requests: 3, inFlight: 0, chatCompletions: 1, streams: 1 });
  expect(router.stats.bySession.get(session)).toBe(2);

  router.resetStats();
  expect(router.stats).toMatchObject({ requests: 0, chatCompletions: 0, streams: 0 });
  expect(router.requests).toHaveLength(0);
});
