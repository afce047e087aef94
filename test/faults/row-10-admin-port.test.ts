import net from 'node:net';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { resolveProxyConfig } from '../../src/proxy/options.js';
import { startProxy, startUpstream } from '../helpers/proxy-harness.js';
import { until } from './fault-kit.js';

/**
 * Issue 14 row 10, as a hostile caller meets it (the options and the readiness cache have their own tests in
 * test/proxy/admin-token-and-readiness.test.ts): the admin port followed --host, `/incidents` listed session ids,
 * key prefixes and fingerprints to anyone, and 2,000 `/readyz` calls held 4,000 sockets. Must: admin on 127.0.0.1
 * unless --admin-host says otherwise; a bearer token (from a file) for `/incidents` and `/metrics`; `/readyz`
 * probes the upstream at most once a second.
 */
describe('the admin port (issue 14 row 10)', () => {
  it('stays on 127.0.0.1 when the gateway port is published on 0.0.0.0', () => {
    expect(resolveProxyConfig({ upstream: 'http://127.0.0.1:1', host: '0.0.0.0' }, {}).adminHost).toBe('127.0.0.1');
    expect(resolveProxyConfig({ upstream: 'http://127.0.0.1:1' }, { HOST: '0.0.0.0' }).adminHost).toBe('127.0.0.1');
  });

  it('with a token: /incidents and /metrics refuse anyone without it (nothing of their content in the refusal), the probes answer', async () => {
    const upstream = await startUpstream((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'issued-10' }).end('{}');
    });
    const token = 'admin-token-row-10';
    const { url, adminUrl } = await startProxy(upstream.url, { adminToken: token });
    await (await request(`${url}/v1/models`, { headers: { 'x-request-id': 'issued-10' } })).body.text();
    // An incident with a session id and a key prefix exists now.
    await (await request(`${url}/v1/models`, { headers: { session_id: '0x' + 'aa'.repeat(32), 'x-api-key': 'sk-Adm1n0.' + '3'.repeat(64) } })).body.text();
    for (const path of ['/incidents', '/metrics']) {
      for (const auth of [undefined, 'Bearer wrong', `Bearer ${token}x`, token, `Basic ${token}`]) {
        const res = await request(`${adminUrl}${path}`, { headers: auth === undefined ? {} : { authorization: auth } });
        const body = await res.body.text();
        expect(res.statusCode, `${path} ${auth}`).toBe(401);
        expect(body).not.toContain('0xaaaa');
        expect(body).not.toContain('sk-Adm1n0');
        expect(body).not.toContain(token);
      }
      const ok = await request(`${adminUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.statusCode).toBe(200);
      await ok.body.text();
    }
    expect((await request(`${adminUrl}/healthz`)).statusCode).toBe(200);
    expect((await request(`${adminUrl}/readyz`)).statusCode).toBe(200);
  });

  it('2,000 /readyz calls make one upstream handshake, and leave no sockets open to the upstream', async () => {
    let handshakes = 0;
    const open = new Set<net.Socket>();
    const server = net.createServer((s) => {
      handshakes++;
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { adminUrl } = await startProxy(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    const started = performance.now();
    const statuses = await Promise.all(
      Array.from({ length: 2_000 }, async () => {
        const res = await request(`${adminUrl}/readyz`);
        await res.body.text();
        return res.statusCode;
      }),
    );
    expect(new Set(statuses)).toEqual(new Set([200]));
    // At most one handshake per started second (an injected-clock test of the interval lives in test/proxy), not one
    // or two per call; each handshake's socket is closed again.
    expect(handshakes).toBeLessThanOrEqual(1 + Math.ceil((performance.now() - started) / 1000));
    await until(() => open.size === 0);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
