import { Writable } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/telemetry/logger.js';
import { startTelemetry, type Telemetry } from '../../src/telemetry/sdk.js';
import { proxyConfigFor } from '../../src/proxy/options.js';
import { createProxyServer, type ProxyServer } from '../../src/proxy/server.js';
import { startSimulatedRouter, SIM_HEADER_FAULT, basicAuthHeader, type SimulatedRouter } from '../../src/simulator/index.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { streamChat } from '../helpers/chat.js';

const KEYS = ['sk-Secr3t.' + 'a7'.repeat(32), 'sk-0ther0.' + '9c'.repeat(32), 'sk-Ab.short-secret-part'];
const ROUTER_AUTH = { username: 'router-admin', password: 'Tr0ub4dor&3-router' };

describe('secrets never leak: spans, logs, /metrics, /incidents', () => {
  let receiver: OtlpReceiver;
  let telemetry: Telemetry;
  let router: SimulatedRouter;
  let proxy: ProxyServer;
  let url: string;
  let adminUrl: string;
  const logs: string[] = [];

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    process.env.OTEL_BSP_SCHEDULE_DELAY = '20';
    telemetry = startTelemetry({ serviceName: 'crosstalk-secrets' });
    router = await startSimulatedRouter({ seed: 9, chunks: 5, auth: ROUTER_AUTH, echoSession: true });
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        logs.push(c.toString());
        cb();
      },
    });
    proxy = createProxyServer(proxyConfigFor(router.url, { fingerprintSecret: 'f' }), { tracer: telemetry.tracer, logger: createLogger('trace', sink) });
    ({ url, adminUrl } = await proxy.listen());
  });

  afterAll(async () => {
    await proxy.close();
    await telemetry.shutdown();
    await router.close();
    await receiver.close();
  });

  it('runs clean, crosstalk, auth-failure and hostile traffic carrying the secrets', async () => {
    const session = (m: string) => router.sessions.forModel(m)[0]?.id as string;
    const basic = basicAuthHeader(ROUTER_AUTH);
    const s1 = session('llama-3.3-70b');
    const s2 = session('qwen3-235b');
    const base = (s: string) => ({ ...router.chatHeaders(s), authorization: basic });
    const prompt = { messages: [{ role: 'user', content: `my key is ${KEYS[0]} and the router password is ${ROUTER_AUTH.password}` }] };
    // Clean, with the key in x-api-key and in the prompt.
    await streamChat(url, { ...base(s1), 'x-api-key': KEYS[0] as string }, prompt);
    // Crosstalk of several kinds, each with a key attached.
    await streamChat(url, { ...base(s1), 'x-api-key': KEYS[0] as string, [SIM_HEADER_FAULT]: 'wrong-request-id' }, prompt);
    await streamChat(url, { ...base(s1), 'x-api-key': KEYS[1] as string }, prompt); // session_key_conflict
    await streamChat(url, { ...base(s2), 'x-api-key': KEYS[1] as string, [SIM_HEADER_FAULT]: 'wrong-session' }, { model: 'qwen3-235b', ...prompt });
    await streamChat(url, { ...base(s2), 'x-api-key': KEYS[1] as string, [SIM_HEADER_FAULT]: 'model:llama-3.3-70b' }, { model: 'qwen3-235b', ...prompt });
    // A gateway forwarding the user's Bearer key instead of Basic: the router rejects it (401).
    await streamChat(url, { ...router.chatHeaders(s1), authorization: `Bearer ${KEYS[2]}` }, prompt);
    // The key as a (rejected) request id, a session id and a query string.
    await streamChat(url, { ...base(s1), 'x-request-id': `${KEYS[2]}\u00e9`.slice(0, 200) }, prompt);
    await (await request(`${url}/v1/models?api_key=${encodeURIComponent(ROUTER_AUTH.password)}`, { headers: { authorization: basic } })).body.text();
    // Upstream failure paths log too.
    await streamChat(url, { ...base(s1), 'x-api-key': KEYS[0] as string, [SIM_HEADER_FAULT]: 'reset-mid-stream:2' }, prompt);
    const incidents = (await (await request(`${adminUrl}/incidents`)).body.json()) as { total: number };
    expect(incidents.total).toBeGreaterThanOrEqual(4);
  });

  it('has zero hits for any raw key, Authorization value or Basic credential', async () => {
    await receiver.waitForSpans(9);
    await new Promise((r) => setTimeout(r, 100));
    const basic = basicAuthHeader(ROUTER_AUTH);
    const haystacks = {
      spans: Buffer.concat(receiver.bodies).toString('utf8'),
      logs: logs.join(''),
      metrics: await (await request(`${adminUrl}/metrics`)).body.text(),
      incidents: await (await request(`${adminUrl}/incidents`)).body.text(),
    };
    const secrets = [
      ...KEYS,
      ...KEYS.map((k) => k.slice(k.indexOf('.') + 1)),
      basic,
      basic.slice('Basic '.length),
      `${ROUTER_AUTH.username}:${ROUTER_AUTH.password}`,
      ROUTER_AUTH.password,
      encodeURIComponent(ROUTER_AUTH.password),
    ];
    for (const [where, text] of Object.entries(haystacks)) {
      expect(text.length, where).toBeGreaterThan(0);
      for (const secret of secrets) expect(text.includes(secret), `${where} contains a secret`).toBe(false);
    }
    // What is recorded instead: the public prefixes.
    expect(haystacks.spans).toContain('sk-Secr3t');
    expect(haystacks.incidents).toContain('sk-0ther0');
  });
});
