import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';
import { UpstreamPool } from '../../src/proxy/upstream-pool.js';

/** A loopback HTTP upstream answering with `handle`, and an UpstreamPool aimed at it; both closed after the test. */
export async function poolWithUpstream(handle: http.RequestListener): Promise<UpstreamPool> {
  const server = http.createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
  const pool = new UpstreamPool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, {
    headersTimeoutMs: 5_000,
    idleTimeoutMs: 5_000,
    connectTimeoutMs: 5_000,
  });
  onTestFinished(() => pool.close());
  return pool;
}
