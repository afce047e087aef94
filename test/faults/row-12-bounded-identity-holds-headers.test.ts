import { request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JsonHoldBudget } from '../../src/proxy/hold-budget.js';
import { MAX_IDENTITY_CHARS } from '../../src/proxy/request-context.js';
import { ATTR_SESSION_ID, CROSSTALK_API_KEY_ID, CROSSTALK_INSPECTION_SKIPPED, CROSSTALK_MODEL_ID } from '../../src/telemetry/attributes.js';
import { startProxy, startUpstream, waitForSpan } from '../helpers/proxy-harness.js';
import { rawExchange, untilHead, untilJsonBody } from '../helpers/raw-client.js';
import { MODES, sample, scrape, signal, until } from './fault-kit.js';

/**
 * Issue 14 row 12: 7 KB session and key ids were copied whole into spans and registries; 60 × 7.5 MB JSON answers
 * were all held in block mode; headers past 1,000 lines were silently dropped. Must: identity values capped (and
 * the cap counted); block-mode JSON held under one global byte cap, past it forwarded uninspected and counted;
 * too many header lines → 431.
 */

const BIG = (c: string) => '0x' + c.repeat(7 * 1024);

describe('identity values are capped and the cap is counted (issue 14 row 12)', () => {
  it.each(MODES)('%s mode: 7 KB session, model and key ids reach the upstream whole; spans and incidents get them capped', async (mode) => {
    const upstream = await startUpstream((req, res) => {
      req.resume();
      // An echo naming another request makes an incident, so its fields are checked too.
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'issued-12' });
      res.end(JSON.stringify({ lengths: [req.headers.session_id, req.headers.model_id, req.headers['x-api-key-id']].map((v) => String(v ?? '').length) }));
    });
    const { url, adminUrl, tracing, proxy } = await startProxy(upstream.url, { onCrosstalk: mode });
    await (await request(`${url}/v1/other`, { headers: { 'x-request-id': 'issued-12' } })).body.text();
    // One big value per request: Node's own 16 KB header limit would refuse three at once.
    const fields = [
      { header: 'session_id', field: 'session_id', attr: ATTR_SESSION_ID, value: BIG('a'), incident: 'session' },
      { header: 'model_id', field: 'model_id', attr: CROSSTALK_MODEL_ID, value: BIG('b'), incident: undefined },
      { header: 'x-api-key-id', field: 'api_key_id', attr: CROSSTALK_API_KEY_ID, value: BIG('c'), incident: 'apiKeyId' },
    ] as const;
    for (const [i, f] of fields.entries()) {
      const res = await request(`${url}/v1/models`, { headers: { [f.header]: f.value, 'x-request-id': `big-${i}` } });
      const answer = await res.body.text();
      if (mode === 'flag') expect((JSON.parse(answer) as { lengths: number[] }).lengths[i]).toBe(f.value.length);
      else expect(res.statusCode).toBe(502);
      await until(() => tracing.exporter.getFinishedSpans().some((s) => s.attributes['crosstalk.request_id'] === `big-${i}`));
      const mine = tracing.exporter.getFinishedSpans().find((s) => s.attributes['crosstalk.request_id'] === `big-${i}`);
      expect(mine?.attributes[f.attr]).toBe(f.value.slice(0, MAX_IDENTITY_CHARS));
      for (const value of Object.values(mine?.attributes ?? {})) expect(String(value).length).toBeLessThanOrEqual(MAX_IDENTITY_CHARS);
      expect(sample(await scrape(adminUrl), `crosstalk_identity_truncated_total{field="${f.field}"}`)).toBe(1);
      const incident = proxy.incidents.list().find((x) => x.requestId === `big-${i}`);
      expect(incident).toBeDefined();
      if (f.incident !== undefined) expect(incident?.[f.incident]).toBe(f.value.slice(0, MAX_IDENTITY_CHARS));
      expect(JSON.stringify(incident).length).toBeLessThan(4 * 1024);
    }
  });

  it('a 7 KB session id on a chat request is capped before the detection registries see it', async () => {
    const upstream = await startUpstream((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: {"id":"chatcmpl-12","model":"m","choices":[]}\n\ndata: [DONE]\n\n');
    });
    const { url, tracing } = await startProxy(upstream.url, { onCrosstalk: 'block' });
    const res = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', session_id: BIG('d'), 'x-api-key': 'sk-AbCdEf.' + '1'.repeat(64) },
      body: '{"stream":true}',
    });
    expect(res.statusCode).toBe(200);
    await res.body.text();
    const span = await waitForSpan(tracing, (n) => n.startsWith('chat'));
    expect(String(span.attributes[ATTR_SESSION_ID]).length).toBe(MAX_IDENTITY_CHARS);
  });
});

describe('block-mode JSON bodies are held under one global byte cap (issue 14 row 12)', () => {
  afterEach(() => vi.restoreAllMocks());

  const body = (n: number, bytes: number) => {
    const head = `{"id":"chatcmpl-g${n}","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"`;
    return head + 'x'.repeat(bytes - head.length - 4) + '"}}]}';
  };

  it('a body arriving while the cap is taken is forwarded uninspected and counted; the held one is still inspected', async () => {
    const CAP = 16 * 1024;
    const held = signal();
    const finishFirst = signal();
    // Observes the budget (calls through): the test learns the first body is held from the budget itself.
    const originalTryHold = JsonHoldBudget.prototype.tryHold;
    const tryHold = vi.spyOn(JsonHoldBudget.prototype, 'tryHold');
    const first = body(1, 12 * 1024);
    const second = body(2, 12 * 1024);
    const upstream = await startUpstream((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.headers['x-which'] === 'first') {
        // Most of the body now, the rest once the second response has been decided.
        res.write(first.slice(0, -10));
        void finishFirst.promise.then(() => res.end(first.slice(-10)));
      } else {
        res.end(second);
      }
    });
    tryHold.mockImplementation(function (this: JsonHoldBudget, bytes: number) {
      const ok = originalTryHold.call(this, bytes);
      if (ok && this.heldBytes >= 12 * 1024 - 10) held.resolve();
      return ok;
    });
    const { url, adminUrl, tracing } = await startProxy(upstream.url, { onCrosstalk: 'block', maxHeldJsonBytes: CAP });
    const send = (which: string) =>
      request(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-which': which },
        body: '{"model":"m"}',
      });
    const firstRes = send('first');
    await held.promise;
    // The first body holds most of the cap: the second cannot be held with it.
    const secondRes = await send('second');
    expect(secondRes.statusCode).toBe(200);
    expect(await secondRes.body.text()).toBe(second);
    finishFirst.resolve();
    const firstAnswer = await firstRes;
    expect(firstAnswer.statusCode).toBe(200);
    expect(await firstAnswer.body.text()).toBe(first);
    const metrics = await scrape(adminUrl);
    expect(sample(metrics, 'crosstalk_inspection_degraded_total{reason="global_json_cap"}')).toBe(1);
    const spans = tracing.exporter.getFinishedSpans().filter((s) => s.name.startsWith('chat'));
    expect(spans.map((s) => s.attributes[CROSSTALK_INSPECTION_SKIPPED] ?? 'inspected').sort()).toEqual(['global_json_cap', 'inspected']);
  });
});

describe('too many header lines → 431, never a silently shortened request (issue 14 row 12)', () => {
  const headLines = (n: number, last: string) => Array.from({ length: n - 2 }, (_, i) => `x-h${i}: ${i}\r\n`).join('') + last;

  it.each(MODES)('%s mode: past --max-header-lines (and at 1,000+) the request is refused with 431, upstream never called', async (mode) => {
    const upstream = await startUpstream((req, res) => res.end('{}'));
    const { url } = await startProxy(upstream.url, { onCrosstalk: mode, maxHeaderLines: 200 });
    for (const n of [201, 1_100]) {
      const raw = await rawExchange(url, `GET /v1/models HTTP/1.1\r\nHost: x\r\n${headLines(n, 'authorization: Basic YTpi\r\n')}\r\n`, untilHead);
      expect(raw).toMatch(/^HTTP\/1\.1 431 /);
    }
    const chat = await rawExchange(
      url,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-length: 2\r\n${headLines(300, 'authorization: Basic YTpi\r\n')}\r\n{}`,
      untilJsonBody,
    );
    expect(chat).toMatch(/^HTTP\/1\.1 431 /);
    expect(chat).toContain('"code":"CROSSTALK_ERR_TOO_MANY_HEADERS"');
    expect(upstream.requests).toHaveLength(0);
  });

  it('at the cap exactly, every header (a last `authorization` too) reaches the upstream', async () => {
    const upstream = await startUpstream((req, res) =>
      res.end(JSON.stringify({ auth: req.headers.authorization ?? null, n: req.rawHeaders.length / 2 })),
    );
    const { url } = await startProxy(upstream.url, { maxHeaderLines: 200 });
    // Host + 197 x-h lines + x-last + authorization: exactly 200 lines.
    const raw = await rawExchange(url, `GET /v1/models HTTP/1.1\r\nHost: x\r\n${headLines(199, 'x-last: 1\r\nauthorization: Basic YTpi\r\n')}\r\n`, untilJsonBody);
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(raw).toContain('"auth":"Basic YTpi"');
  });
});
