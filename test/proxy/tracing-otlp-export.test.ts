import { Writable } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/telemetry/logger.js';
import { startTelemetry, type Telemetry } from '../../src/telemetry/sdk.js';
import { proxyConfigFor } from '../../src/proxy/options.js';
import { createProxyServer, type ProxyServer } from '../../src/proxy/server.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { startUpstream } from '../helpers/proxy-harness.js';
import { fingerprintKey } from '../../src/proxy/api-key.js';

const API_KEY = 'sk-Ab3dE9.' + 'c0ffee'.repeat(10) + 'abcd';
const BASIC_USER_PASS = 'admin:router-pa55word';
const BASIC = 'Basic ' + Buffer.from(BASIC_USER_PASS).toString('base64');
const SESSION = '0x' + '5e'.repeat(32);
const MODEL_ID = '0x' + '77'.repeat(32);
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';

describe('spans exported over OTLP/HTTP', () => {
  let receiver: OtlpReceiver;
  let telemetry: Telemetry;
  let proxy: ProxyServer;
  let url: string;
  const logs: string[] = [];
  let upstreamHeaders: Record<string, string | string[] | undefined> = {};

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    process.env.OTEL_BSP_SCHEDULE_DELAY = '50';
    delete process.env.OTEL_TRACES_EXPORTER;
    telemetry = startTelemetry({ serviceName: 'crosstalk-test' });
    const upstream = await startUpstream((req, res) => {
      upstreamHeaders = { ...req.headers };
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': String(req.headers['x-request-id']) });
        res.write('data: {"id":"chatcmpl-9","object":"chat.completion.chunk","model":"llama-3.3-70b","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n');
        res.write(
          'data: {"id":"chatcmpl-9","object":"chat.completion.chunk","model":"llama-3.3-70b","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],' +
            '"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15},"usage_from_provider":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}\n\n',
        );
        res.end('data: [DONE]\n\n');
      });
    });
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        logs.push(c.toString());
        cb();
      },
    });
    proxy = createProxyServer(proxyConfigFor(upstream.url, { fingerprintSecret: 'fp-secret' }), {
      tracer: telemetry.tracer,
      logger: createLogger('debug', sink),
    });
    ({ url } = await proxy.listen());
  });

  afterAll(async () => {
    await proxy.close();
    await telemetry.shutdown();
    await receiver.close();
  });

  it('continues the caller trace, propagates traceparent upstream and records the identity attributes', async () => {
    const res = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        authorization: BASIC,
        'x-api-key': API_KEY,
        'x-api-key-id': '42',
        session_id: SESSION,
        'x-session-id': SESSION,
        model_id: MODEL_ID,
        'x-request-id': 'req-otlp-1',
        traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`,
      },
      body: JSON.stringify({ model: 'llama-3.3-70b', stream: true, messages: [{ role: 'user', content: 'hello' }] }),
    });
    await res.body.text();
    const [span] = await receiver.waitForSpans(1);
    expect(span).toBeDefined();
    if (!span) return;
    expect(span.name).toBe('chat llama-3.3-70b');
    expect(span.kind).toBe(2); // SERVER
    expect(span.traceId).toBe(TRACE_ID);
    expect(span.parentSpanId).toBe(PARENT_SPAN_ID);
    expect(upstreamHeaders.traceparent).toBe(`00-${TRACE_ID}-${span.spanId}-01`);
    expect(upstreamHeaders.authorization).toBe(BASIC);
    expect(span.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.path': '/v1/chat/completions',
      'http.response.status_code': 200,
      'server.address': '127.0.0.1',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'llama-3.3-70b',
      'session.id': SESSION,
      'crosstalk.model_id': MODEL_ID,
      'crosstalk.request_id': 'req-otlp-1',
      'crosstalk.request_id.rejected': false,
      'crosstalk.request_id_echo': 'match',
      'crosstalk.api_key.prefix': 'sk-Ab3dE9',
      'crosstalk.api_key.fingerprint': fingerprintKey(API_KEY, 'fp-secret'),
      'crosstalk.api_key.id': '42',
      'crosstalk.stream': true,
      'gen_ai.response.model': 'llama-3.3-70b',
      'gen_ai.response.id': 'chatcmpl-9',
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 3,
      'crosstalk.sse.events': 3,
      'crosstalk.inflight.api_key': 0,
      'crosstalk.inflight.session': 0,
    });
    expect(span.attributes['crosstalk.detected']).toBeUndefined();
    expect(span.status.code ?? 0).toBe(0);
    expect(typeof span.attributes['server.port']).toBe('number');
    expect(span.attributes['crosstalk.time_to_first_chunk_ms']).toBeTypeOf('number');
  });

  it('a Bearer sk- key in authorization is fingerprinted the same way', async () => {
    const before = receiver.spans().length;
    const res = await request(`${url}/v1/models`, { headers: { authorization: `Bearer ${API_KEY}` } });
    await res.body.text();
    const spans = await receiver.waitForSpans(before + 1);
    const span = spans.at(-1);
    expect(span?.name).toBe('GET /v1/models');
    expect(span?.attributes['crosstalk.api_key.prefix']).toBe('sk-Ab3dE9');
    expect(span?.attributes['crosstalk.api_key.fingerprint']).toBe(fingerprintKey(API_KEY, 'fp-secret'));
  });

  it('no raw API key, Authorization value or Basic credential appears in anything exported or logged', async () => {
    await receiver.waitForSpans(2);
    const exported = Buffer.concat(receiver.bodies).toString('utf8');
    const logged = logs.join('');
    const secrets = [API_KEY, API_KEY.slice(10), BASIC, BASIC.slice(6), BASIC_USER_PASS, 'router-pa55word'];
    for (const secret of secrets) {
      expect(exported).not.toContain(secret);
      expect(logged).not.toContain(secret);
    }
    expect(exported.length).toBeGreaterThan(0);
  });
});
