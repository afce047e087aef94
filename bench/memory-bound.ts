/**
 * Retained memory of the proxy under sustained streaming, measured after forced GC (so garbage V8 has not yet
 * collected does not count): run with `node --expose-gc --import tsx bench/memory-bound.ts [--drift]`.
 * Proxy, simulated router and client share this process; the figure is what they retain together.
 */
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { createProxyServer } from '../src/proxy/server.js';
import { proxyConfigFor } from '../src/proxy/options.js';
import { createLogger } from '../src/telemetry/logger.js';
import { makeSessions, startSimulatedRouter } from '../src/simulator/index.js';

const { values } = parseArgs({ options: { drift: { type: 'boolean', default: false }, rounds: { type: 'string', default: '6' }, per: { type: 'string', default: '5000' } } });
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const router = await startSimulatedRouter({ seed: 1, chunks: 20, auth: false, sessions: makeSessions(8), idDrift: values.drift });
const proxy = createProxyServer(proxyConfigFor(router.url, { fingerprintSecret: 'x' }), { logger: createLogger('error') });
const { url } = await proxy.listen();
const sessions = router.sessions.list();
const agent = new Agent({ connections: 128 });
const retainedMb = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return +((m.heapUsed + m.arrayBuffers) / 1048576).toFixed(1);
};

let n = 0;
async function run(count: number): Promise<void> {
  const target = n + count;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (n < target) {
        const i = n++;
        const s = sessions[i % sessions.length];
        if (!s) throw new Error('no session');
        const res = await request(`${url}/v1/chat/completions`, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json', session_id: s.id, 'x-api-key': `sk-Key${String(i % sessions.length).padStart(3, '0')}.${'a'.repeat(64)}` },
          body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: `hi ${i}` }] }),
        });
        await res.body.text();
      }
    }),
  );
}

const rows = [{ requests: 0, retainedMb: retainedMb() }];
for (let r = 0; r < Number(values.rounds); r++) {
  await run(Number(values.per));
  rows.push({ requests: n, retainedMb: retainedMb() });
}
console.table(rows);
console.log(JSON.stringify({ drift: values.drift, rows }));
await proxy.close();
await router.close();
await agent.close();
