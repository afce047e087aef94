import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { CROSSTALK_DETECTED } from '../../src/telemetry/attributes.js';
import { startProxy, startUpstream, waitForSpan } from '../helpers/proxy-harness.js';
import { MODES, sample, scrape } from './fault-kit.js';

/**
 * Issue 14 row 1: an SSE chunk with ~40 KB after its `"content"` string. Block mode: the process exited
 * (`Regular expression too large`, built from response bytes) and the stack trace held response bytes; flag mode:
 * inspection switched off for the rest of that stream. Must: no code or regex built from response bytes; any
 * exception degrades that one response (counted, logged without bytes); the process never exits.
 *
 * Here the inspector must not even need to degrade: the 40 KB events (regex metacharacters, escapes, an
 * unterminated string, repeated heads for the fast path) are read like any other, and a foreign echo in a later
 * event of the same stream is still found (blocked in block mode).
 */

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
const MARK = 'RESPONSE-BYTES-MARK';
/** 40 KB of what a regex built from it would choke on, JSON-escaped. */
const HOSTILE = (MARK + '(a+)+$[^\\\\]{1,}*?|.\\\\1(?<x>)\\"\\u0000' + '\\\\'.repeat(7)).repeat(40 * 1024 / 64).slice(0, 40 * 1024).replace(/\\+$/, '');

const SHAPES = {
  'valid JSON with 40 KB content': (id: string) => `data: {"id":"${id}","model":"m","choices":[{"index":0,"delta":{"content":"${HOSTILE}"}}]}\n\n`,
  'an unterminated 40 KB content string': (id: string) => `data: {"id":"${id}","model":"m","choices":[{"index":0,"delta":{"content":"${HOSTILE}\n\n`,
  '40 KB after content, outside the string': (id: string) => `data: {"id":"${id}","model":"m","choices":[{"index":0,"delta":{"content":"x"}}],${'"k":"' + HOSTILE + '",'}"z":1}\n\n`,
} as const;

describe('an SSE event with ~40 KB after "content" (issue 14 row 1)', () => {
  const cases = MODES.flatMap((mode) => Object.keys(SHAPES).map((shape) => [mode, shape as keyof typeof SHAPES] as const));

  it.each(cases)('%s mode, %s: every byte to the caller, still inspected to the end, the process serves on', async (mode, shape) => {
    let n = 0;
    const upstream = await startUpstream((req, res) => {
      req.resume();
      if (req.url === '/v1/models') return void res.end('{}');
      const id = `chatcmpl-r1-${n++}`;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // The same head several times: the fast path's template is built from it, then compared against 40 KB.
      const head = `data: {"id":"${id}","model":"m","choices":[{"index":0,"delta":{"content":"a"}}]}\n\n`;
      res.write(head);
      res.write(head);
      const big = SHAPES[shape](id);
      for (let i = 0; i < big.length; i += 4096) res.write(big.slice(i, i + 4096));
      res.write(head);
      if (req.headers['x-then'] === 'foreign') {
        res.write(`data: {"id":"${id}","model":"m","request_id":"victim-r1","choices":[{"index":0,"delta":{"content":"STOLEN"}}]}\n\n`);
      }
      res.end('data: [DONE]\n\n');
    });
    const { url, adminUrl, tracing, logs } = await startProxy(upstream.url, { onCrosstalk: mode });
    await (await request(`${url}/v1/models`, { headers: { 'x-request-id': 'victim-r1' } })).body.text();
    const chat = (then: string) =>
      request(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-then': then },
        body: '{"model":"m","stream":true}',
      });

    // 1. Clean stream with the 40 KB event: byte for byte, inspected, nothing degraded.
    const clean = await chat('clean');
    const cleanBody = await clean.body.text();
    expect(clean.statusCode).toBe(200);
    expect(cleanBody).toContain(HOSTILE);
    expect(cleanBody.endsWith('data: [DONE]\n\n')).toBe(true);
    const span = await waitForSpan(tracing, (name) => name.startsWith('chat'));
    expect(span.attributes[CROSSTALK_DETECTED]).toBeUndefined();

    // 2. The same stream with a foreign echo after the 40 KB event: inspection was not switched off.
    const dirty = await chat('foreign');
    const dirtyBody = await dirty.body.text();
    expect(dirtyBody).toContain(HOSTILE.slice(0, 1000));
    if (mode === 'block') {
      expect(dirtyBody).not.toContain('STOLEN');
      expect(dirtyBody).toContain('CROSSTALK_ERR_FOREIGN_RESPONSE');
    } else {
      expect(dirtyBody).toContain('STOLEN');
    }
    const metrics = await scrape(adminUrl);
    expect(sample(metrics, 'crosstalk_detected_total{reason="request_id_mismatch"}')).toBe(1);
    expect(sample(metrics, 'crosstalk_inspection_degraded_total{reason="inspector_error"}')).toBe(0);
    expect(sample(metrics, 'crosstalk_responses_inspected_total{result="inspected"}')).toBe(2);

    // 3. The process serves on, and no log line holds response bytes.
    expect((await request(`${adminUrl}/healthz`)).statusCode).toBe(200);
    const again = await chat('clean');
    expect(sha(await again.body.text())).toBe(sha(cleanBody.replaceAll('chatcmpl-r1-0', 'chatcmpl-r1-2')));
    expect(logs.join('\n')).not.toContain(MARK);
  });
});

describe('no code or regex is built at run time in the sidecar (issue 14 row 1)', () => {
  it('src/proxy, src/inspect, src/protocol, src/telemetry and src/config construct no RegExp, Function or eval', () => {
    const offenders: string[] = [];
    for (const dir of ['src/proxy', 'src/inspect', 'src/protocol', 'src/telemetry', 'src/config']) {
      for (const file of readdirSync(dir, { recursive: true }) as string[]) {
        if (!file.endsWith('.ts')) continue;
        const text = readFileSync(join(dir, file), 'utf8');
        for (const [i, line] of text.split('\n').entries()) {
          if (/\bRegExp\s*\(|\bnew\s+Function\b|\beval\s*\(/.test(line) && !line.trim().startsWith('*') && !line.trim().startsWith('//')) {
            offenders.push(`${dir}/${file}:${i + 1}`);
          }
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
