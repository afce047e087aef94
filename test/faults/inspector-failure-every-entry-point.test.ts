import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Detection, RequestJudge, ResponseInspector } from '../../src/inspect/index.js';
import { startProxy, startUpstream } from '../helpers/proxy-harness.js';
import { MODES, sample, scrape } from './fault-kit.js';

/**
 * Issue 14 row 1 ("any exception in inspection, in either mode, degrades that one response"), the entry points
 * inspector-failure.test.ts does not reach: the inspector's status, skip and SSE fast-path calls, every method of
 * the gateway-aware judge the proxy's calls lead into, and the process-wide detection (request start, control-plane
 * calls and answers). Each throws in turn, in both modes: the caller still gets every byte, the failure is
 * counted (inspector entry points) or logged by type, never with its message, and the process serves on.
 */

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const SECRET_IN_MESSAGE = 'bytes-from-the-response-0xfeedface';
const SESSION = '0x' + 'c4'.repeat(32);

type Kind = 'sse' | 'json' | 'gzip' | 'control';
interface Entry {
  target: { prototype: object };
  name: string;
  method: string;
  kinds: Kind[];
  /** Reaching it degrades the response (counted in crosstalk_inspection_degraded_total). */
  counted: boolean;
}

const ENTRIES: Entry[] = [
  { target: ResponseInspector, name: 'ResponseInspector', method: 'onStatus', kinds: ['sse', 'json'], counted: true },
  { target: ResponseInspector, name: 'ResponseInspector', method: 'canSkipEvent', kinds: ['sse'], counted: true },
  { target: ResponseInspector, name: 'ResponseInspector', method: 'skipEvent', kinds: ['sse'], counted: true },
  { target: ResponseInspector, name: 'ResponseInspector', method: 'skip', kinds: ['gzip'], counted: true },
  { target: RequestJudge, name: 'RequestJudge', method: 'setRequestBody', kinds: ['sse', 'json'], counted: true },
  { target: RequestJudge, name: 'RequestJudge', method: 'checkRequest', kinds: ['sse', 'json'], counted: true },
  { target: RequestJudge, name: 'RequestJudge', method: 'onStatus', kinds: ['sse', 'json'], counted: true },
  { target: RequestJudge, name: 'RequestJudge', method: 'onEcho', kinds: ['sse', 'json'], counted: true },
  { target: RequestJudge, name: 'RequestJudge', method: 'onChunk', kinds: ['sse', 'json'], counted: true },
  { target: RequestJudge, name: 'RequestJudge', method: 'finish', kinds: ['sse', 'json'], counted: true },
  { target: Detection, name: 'Detection', method: 'begin', kinds: ['sse', 'json'], counted: true },
  { target: Detection, name: 'Detection', method: 'controlCall', kinds: ['control'], counted: false },
  { target: Detection, name: 'Detection', method: 'onControlResponse', kinds: ['control'], counted: false },
];

function answer(kind: Kind, n: number): { type: string; body: Buffer; encoding?: string } {
  switch (kind) {
    case 'sse':
      return {
        type: 'text/event-stream',
        body: Buffer.from(
          Array.from({ length: 40 }, (_, i) => `data: {"id":"chatcmpl-e${n}","model":"m","choices":[{"index":0,"delta":{"content":"${i}"}}]}\n\n`).join('') + 'data: [DONE]\n\n',
        ),
      };
    case 'json':
      return { type: 'application/json', body: Buffer.from(JSON.stringify({ id: `chatcmpl-j${n}`, object: 'chat.completion', model: 'm', choices: [] })) };
    case 'gzip':
      return { type: 'text/event-stream', encoding: 'gzip', body: gzipSync(`data: {"id":"chatcmpl-g${n}","choices":[]}\n\ndata: [DONE]\n\n`) };
    case 'control':
      return { type: 'application/json', body: Buffer.from(JSON.stringify({ sessionID: SESSION })) };
  }
}

describe('an exception from any detection entry point degrades one response, never the process', () => {
  afterEach(() => vi.restoreAllMocks());

  const cases = MODES.flatMap((mode) => ENTRIES.flatMap((e) => e.kinds.map((kind) => [mode, `${e.name}.${e.method}`, kind, e] as const)));

  it.each(cases)('%s mode, %s throws, %s answer', async (mode, _label, kind, entry) => {
    let served = 0;
    const upstream = await startUpstream((req, res) => {
      req.resume();
      // The session look-up (the session is unknown) answers 404 and does not count.
      if (req.url?.startsWith('/blockchain/sessions/')) return void res.writeHead(404).end();
      const a = answer(kind, served++);
      res.writeHead(200, { 'content-type': a.type, ...(a.encoding !== undefined && { 'content-encoding': a.encoding }) });
      for (let i = 0; i < a.body.length; i += 101) res.write(a.body.subarray(i, i + 101));
      res.end();
    });
    const { url, adminUrl, logs } = await startProxy(upstream.url, { onCrosstalk: mode });
    const send = () =>
      kind === 'control'
        ? request(`${url}/blockchain/models/0x${'ab'.repeat(32)}/session`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{"sessionDuration":600}',
          })
        : request(`${url}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', session_id: SESSION, 'x-api-key': 'sk-AbCdEf.' + '9'.repeat(64), 'accept-encoding': 'gzip' },
            body: JSON.stringify({ model: 'm', stream: kind !== 'json', messages: [{ role: 'user', content: 'hi' }] }),
          });
    const calls = { n: 0 };
    vi.spyOn(entry.target.prototype as Record<string, (...a: unknown[]) => unknown>, entry.method).mockImplementation(() => {
      calls.n++;
      throw new TypeError(`simulated bug near ${SECRET_IN_MESSAGE}`);
    });
    const res = await send();
    const got = Buffer.from(await res.body.arrayBuffer());
    expect(calls.n).toBeGreaterThan(0);
    expect(res.statusCode).toBe(200);
    expect(sha(got)).toBe(sha(answer(kind, 0).body));
    if (entry.counted) expect(sample(await scrape(adminUrl), 'crosstalk_inspection_degraded_total{reason="inspector_error"}')).toBe(1);
    const errors = logs.map((l) => JSON.parse(l) as { level: number; errorType?: string }).filter((l) => l.level >= 50);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.errorType === 'TypeError')).toBe(true);
    expect(logs.join('\n')).not.toContain(SECRET_IN_MESSAGE);

    // The bug gone, the process serves (and inspects) on.
    vi.restoreAllMocks();
    const again = await send();
    expect(again.statusCode).toBe(200);
    expect(sha(Buffer.from(await again.body.arrayBuffer()))).toBe(sha(answer(kind, 1).body));
    expect((await request(`${adminUrl}/healthz`)).statusCode).toBe(200);
  });
});
