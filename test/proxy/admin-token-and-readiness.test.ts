import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { ReadinessCache } from '../../src/proxy/admin-server.js';
import { resolveProxyConfig } from '../../src/proxy/options.js';
import type { Reachability } from '../../src/proxy/readiness.js';
import { startProxy } from '../helpers/proxy-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'crosstalk-admin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A raw upstream that only counts the TCP connections it accepts (what /readyz opens). */
async function countingUpstream() {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.on('error', () => undefined);
    socket.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('admin port: private by default, token for what names users, /readyz rate-limited', () => {
  it('listens on 127.0.0.1 unless --admin-host says otherwise, whatever --host is', () => {
    const config = resolveProxyConfig({ upstream: 'http://127.0.0.1:1', host: '0.0.0.0' }, {});
    expect(config.adminHost).toBe('127.0.0.1');
    expect(resolveProxyConfig({ upstream: 'http://127.0.0.1:1', adminHost: '0.0.0.0' }, {}).adminHost).toBe('0.0.0.0');
  });

  it('reads the token from a file; /metrics and /incidents need it, the probes do not', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'secret-admin-token\n');
    const config = resolveProxyConfig({ upstream: 'http://127.0.0.1:1', adminTokenFile: file }, {});
    expect(config.adminToken).toBe('secret-admin-token');

    const upstream = await countingUpstream();
    const { adminUrl } = await startProxy(upstream.url, { adminToken: 'secret-admin-token' });
    try {
      for (const path of ['/healthz', '/readyz']) {
        const res = await request(`${adminUrl}${path}`);
        await res.body.text();
        expect(res.statusCode, path).toBe(200);
      }
      for (const path of ['/metrics', '/incidents']) {
        for (const authorization of [undefined, 'Bearer wrong', 'Basic c2VjcmV0LWFkbWluLXRva2Vu', 'Bearer ', 'Bearer secret-admin-toke']) {
          const res = await request(`${adminUrl}${path}`, { headers: authorization ? { authorization } : {} });
          const body = await res.body.text();
          expect(res.statusCode, `${path} ${authorization}`).toBe(401);
          expect(res.headers['www-authenticate']).toBe('Bearer');
          expect(body).not.toContain('secret');
        }
        const ok = await request(`${adminUrl}${path}`, { headers: { authorization: 'Bearer secret-admin-token' } });
        await ok.body.text();
        expect(ok.statusCode, path).toBe(200);
      }
    } finally {
      await upstream.close();
    }
  });

  it('without a token file the admin routes stay open (loopback-only is then the protection)', async () => {
    const upstream = await countingUpstream();
    const { adminUrl } = await startProxy(upstream.url);
    try {
      const res = await request(`${adminUrl}/incidents`);
      expect(res.statusCode).toBe(200);
      await res.body.text();
    } finally {
      await upstream.close();
    }
  });

  it('2,000 /readyz calls open one upstream connection, not one each', async () => {
    const upstream = await countingUpstream();
    const { adminUrl } = await startProxy(upstream.url);
    try {
      const answers = await Promise.all(
        Array.from({ length: 2000 }, async () => {
          const res = await request(`${adminUrl}/readyz`);
          await res.body.text();
          return res.statusCode;
        }),
      );
      expect(new Set(answers)).toEqual(new Set([200]));
      // Concurrent probes share one check; a later batch within the interval reuses its answer. The test may
      // cross one interval boundary on a slow machine, never one per call.
      expect(upstream.connections).toBeGreaterThanOrEqual(1);
      expect(upstream.connections).toBeLessThan(10);
    } finally {
      await upstream.close();
    }
  });

  it('ReadinessCache: one check per interval on an injected clock; concurrent callers share the one in flight', async () => {
    let now = 0;
    let checks = 0;
    let release: ((r: Reachability) => void) | undefined;
    const cache = new ReadinessCache(
      () => {
        checks++;
        return new Promise<Reachability>((resolve) => (release = resolve));
      },
      () => now,
      1_000,
    );
    const first = cache.get();
    const second = cache.get();
    expect(checks).toBe(1);
    release?.({ ok: true });
    expect(await first).toEqual({ ok: true });
    expect(await second).toEqual({ ok: true });
    now = 999;
    expect(await cache.get()).toEqual({ ok: true });
    expect(checks).toBe(1);
    now = 1_000;
    const third = cache.get();
    expect(checks).toBe(2);
    release?.({ ok: false, reason: 'ECONNREFUSED' });
    expect(await third).toEqual({ ok: false, reason: 'ECONNREFUSED' });
    now = 1_500;
    expect(await cache.get()).toEqual({ ok: false, reason: 'ECONNREFUSED' });
    expect(checks).toBe(2);
  });
});
