import { createHash } from 'node:crypto';
import { request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ResponseInspector } from '../../src/inspect/index.js';
import { CROSSTALK_INSPECTION_SKIPPED } from '../../src/telemetry/attributes.js';
import { startProxy, startUpstream, waitForSpan } from '../helpers/proxy-harness.js';

/**
 * Issue 14 row 1: an exception from any inspector entry point, in either mode, degrades that one response to
 * uninspected forwarding — counted in crosstalk_inspection_degraded_total, logged without the error's message
 * (it may quote response bytes) — and the process keeps serving.
 */

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const SECRET_IN_MESSAGE = 'bytes-from-the-response-0xdeadbeef';

/** A fresh completion id per answer: a response whose inspector never finished keeps its id claimed. */
const sseBody = (n: number) =>
  Buffer.from(
    Array.from({ length: 50 }, (_, i) => `data: {"id":"chatcmpl-s${n}","model":"m","choices":[{"delta":{"content":"${i}"}}]}\n\n`).join('') +
      'data: [DONE]\n\n',
  );
const jsonBody = (n: number) =>
  Buffer.from(
    JSON.stringify({ id: `chatcmpl-j${n}`, object: 'chat.completion', model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'hello' } }] }),
  );

type EntryPoint = 'checkRequest' | 'setRequestModel' | 'onResponseHeaders' | 'onEvent' | 'onJsonBody' | 'finish' | 'hasFindings' | 'reasons';
const GETTERS: EntryPoint[] = ['hasFindings', 'reasons'];
/** Every entry point each mode and body kind reaches. */
const REACHED: Record<'flag' | 'block', Record<'sse' | 'json', EntryPoint[]>> = {
  flag: {
    sse: ['checkRequest', 'setRequestModel', 'onResponseHeaders', 'onEvent', 'finish'],
    json: ['checkRequest', 'setRequestModel', 'onResponseHeaders', 'onJsonBody', 'finish'],
  },
  block: {
    sse: ['checkRequest', 'setRequestModel', 'onResponseHeaders', 'onEvent', 'finish', 'hasFindings'],
    json: ['checkRequest', 'setRequestModel', 'onResponseHeaders', 'onJsonBody', 'finish', 'hasFindings', 'reasons'],
  },
};

function breakEntryPoint(entry: EntryPoint): void {
  const boom = () => {
    throw new TypeError(`simulated inspector bug near ${SECRET_IN_MESSAGE}`);
  };
  if (GETTERS.includes(entry)) vi.spyOn(ResponseInspector.prototype, entry as 'hasFindings', 'get').mockImplementation(boom);
  else vi.spyOn(ResponseInspector.prototype, entry as 'onEvent').mockImplementation(boom);
}

async function degradedCount(adminUrl: string): Promise<number> {
  const text = await (await request(`${adminUrl}/metrics`)).body.text();
  const line = text.split('\n').find((l) => l.startsWith('crosstalk_inspection_degraded_total{reason="inspector_error"}'));
  return Number(line?.split(' ')[1] ?? 'NaN');
}

describe('an inspector exception degrades one response, never the process', () => {
  afterEach(() => vi.restoreAllMocks());

  const cases = (['flag', 'block'] as const).flatMap((mode) =>
    (['sse', 'json'] as const).flatMap((kind) => REACHED[mode][kind].map((entry) => [mode, entry, kind] as const)),
  );

  it.each(cases)('%s mode, %s throws, %s body: the caller gets every byte, counted, logged without bytes', async (mode, entry, kind) => {
    const answer = kind === 'sse' ? sseBody : jsonBody;
    let served = 0;
    const upstream = await startUpstream((req, res) => {
      req.resume();
      const body = answer(served++);
      res.writeHead(200, { 'content-type': kind === 'sse' ? 'text/event-stream' : 'application/json' });
      for (let i = 0; i < body.length; i += 97) res.write(body.subarray(i, i + 97));
      res.end();
    });
    const { url, adminUrl, tracing, logs } = await startProxy(upstream.url, { onCrosstalk: mode });
    breakEntryPoint(entry);
    const res = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', stream: kind === 'sse' }),
    });
    expect(res.statusCode).toBe(200);
    const body = answer(0);
    expect(sha(Buffer.from(await res.body.arrayBuffer()))).toBe(sha(body));
    const span = await waitForSpan(tracing, (n) => n.startsWith('chat'));
    expect(span.attributes[CROSSTALK_INSPECTION_SKIPPED]).toBe('inspector_error');
    expect(span.attributes['crosstalk.response.bytes']).toBe(body.length);
    expect(await degradedCount(adminUrl)).toBe(1);
    const errors = logs.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 50);
    expect(errors[0]).toMatchObject({ msg: expect.stringMatching(/^crosstalk inspector failed/), errorType: 'TypeError' });
    expect(logs.join('\n')).not.toContain(SECRET_IN_MESSAGE);
    // The process keeps serving, inspected again once the bug is gone.
    vi.restoreAllMocks();
    const again = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', stream: kind === 'sse' }),
    });
    expect(again.statusCode).toBe(200);
    expect(sha(Buffer.from(await again.body.arrayBuffer()))).toBe(sha(answer(1)));
    expect((await request(`${adminUrl}/healthz`)).statusCode).toBe(200);
  });
});
