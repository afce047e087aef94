import { describe, expect, it, onTestFinished } from 'vitest';
import { startSimulatedRouter } from '../../src/simulator/index.js';
import { CROSSTALK_INFLIGHT_API_KEY, CROSSTALK_INFLIGHT_SESSION } from '../../src/telemetry/attributes.js';
import { startProxy } from '../helpers/proxy-harness.js';
import { streamChat } from '../helpers/chat.js';

describe('the risk condition on every span', () => {
  it('records how many other requests on the same key / session were in flight when each one started', async () => {
    const router = await startSimulatedRouter({ seed: 2, chunks: 6, chunkDelayMs: 20 });
    onTestFinished(() => router.close());
    const { url, tracing } = await startProxy(router.url);
    const session = router.sessions.forModel('llama-3.3-70b')[0]?.id as string;
    const key = 'sk-Concur.' + 'e'.repeat(64);
    const other = 'sk-Otherk.' + 'f'.repeat(64);
    const first = streamChat(url, { ...router.chatHeaders(session), 'x-api-key': key, 'x-request-id': 'r1' });
    await new Promise((r) => setTimeout(r, 15));
    const second = streamChat(url, { ...router.chatHeaders(session), 'x-api-key': key, 'x-request-id': 'r2' });
    await new Promise((r) => setTimeout(r, 15));
    const unrelated = streamChat(url, { ...router.chatHeaders(router.sessions.forModel('qwen3-235b')[0]?.id as string), 'x-api-key': other, 'x-request-id': 'r3' });
    await Promise.all([first, second, unrelated]);
    const byId = (id: string) => tracing.exporter.getFinishedSpans().find((s) => s.attributes['crosstalk.request_id'] === id)?.attributes;
    expect(byId('r1')).toMatchObject({ [CROSSTALK_INFLIGHT_API_KEY]: 0, [CROSSTALK_INFLIGHT_SESSION]: 0 });
    expect(byId('r2')).toMatchObject({ [CROSSTALK_INFLIGHT_API_KEY]: 1, [CROSSTALK_INFLIGHT_SESSION]: 1 });
    expect(byId('r3')).toMatchObject({ [CROSSTALK_INFLIGHT_API_KEY]: 0, [CROSSTALK_INFLIGHT_SESSION]: 0 });
  });
});
