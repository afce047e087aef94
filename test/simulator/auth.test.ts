import { describe, expect, it, onTestFinished } from 'vitest';
import { startSimulatedRouter } from '../../src/simulator/router.js';
import { basicAuthHeader, DEFAULT_SIM_AUTH } from '../../src/simulator/basic-auth.js';
import { rawRequest } from './http.js';

async function start(options: Parameters<typeof startSimulatedRouter>[0] = {}) {
  const router = await startSimulatedRouter(options);
  onTestFinished(() => router.close());
  return router;
}

describe('basic auth, methods and unknown routes', () => {
  it('refuses requests without or with wrong credentials using the router messages', async () => {
    const router = await start();
    const missing = await rawRequest(`${router.url}/v1/models`);
    expect(missing.status).toBe(401);
    expect(JSON.parse(missing.body)).toEqual({ error: 'no basic auth provided' });

    const wrong = await rawRequest(`${router.url}/v1/models`, {
      headers: { authorization: basicAuthHeader({ username: 'admin', password: 'nope' }) },
    });
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body)).toEqual({ error: 'invalid username or password' });

    const malformed = await rawRequest(`${router.url}/v1/models`, { headers: { authorization: 'Bearer sk-abc' } });
    expect(malformed.status).toBe(401);
    expect(JSON.parse(malformed.body)).toEqual({ error: 'invalid basic auth provided' });

    expect(router.auth).toEqual(DEFAULT_SIM_AUTH);
  });

  it('accepts configured credentials and answers a wrong method with 403 method not allowed', async () => {
    const router = await start({ auth: { username: 'gw', password: 's3cret' } });
    const authorization = basicAuthHeader({ username: 'gw', password: 's3cret' });
    const ok = await rawRequest(`${router.url}/v1/models`, { headers: { authorization } });
    expect(ok.status).toBe(200);

    const wrongMethod = await rawRequest(`${router.url}/v1/chat/completions`, { headers: { authorization } });
    expect(wrongMethod.status).toBe(403);
    expect(JSON.parse(wrongMethod.body)).toEqual({ error: 'method not allowed' });
  });

  it('serves /healthcheck without auth and answers unknown routes 404 JSON', async () => {
    const router = await start();
    const health = await rawRequest(`${router.url}/healthcheck`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({
      Status: 'healthy',
      Version: 'crosstalk-simulated-router',
      Uptime: expect.stringMatching(/^\d+s$/) as string,
    });

    const unknown = await rawRequest(`${router.url}/v1/unknown`);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toEqual({ error: 'not found' });
  });

  it('accepts everything when auth is disabled', async () => {
    const router = await start({ auth: false });
    const res = await rawRequest(`${router.url}/v1/models`);
    expect(res.status).toBe(200);
    expect(router.auth).toBeUndefined();
    expect(router.chatHeaders('0x1')).not.toHaveProperty('authorization');
  });
});
