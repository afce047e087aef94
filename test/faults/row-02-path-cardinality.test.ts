import { Agent, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { OTHER_ROUTE, ROUTE_NAMES, routeTemplate } from '../../src/proxy/route-name.js';
import { ATTR_URL_PATH } from '../../src/telemetry/attributes.js';
import { startProxy, startUpstream } from '../helpers/proxy-harness.js';
import { scrape } from './fault-kit.js';

/**
 * Issue 14 row 2: 10,000 distinct paths made 190k-350k Prometheus series (19-28 MB scrapes that froze every stream)
 * and a key in a path became a label, a span name and an incident field. Must: route labels and span names from a
 * fixed set of known routes, anything else `other`; no raw path segment in a label, span name or incident.
 */

const SECRET = 'sk-Leaked.' + 'f00d'.repeat(16);
const METHODS = ['GET', 'POST', 'DELETE'] as const;

/** Every path shape a hostile or careless caller could send: keys in segments, unknown ids, near-misses. */
function pathFor(i: number): string {
  switch (i % 8) {
    case 0:
      return `/v1/${SECRET}/${i}`;
    case 1:
      return `/blockchain/sessions/${SECRET}-${i}`;
    case 2:
      return `/blockchain/sessions/0x${i.toString(16).padStart(64, '0')}`; // a known template: one series
    case 3:
      return `/v1/models/${i}`;
    case 4:
      return `/v1/chat/completions/${i}`;
    case 5:
      return `/blockchain/models/user-${i}@example.com/session`;
    case 6:
      return `/${i}?api_key=${SECRET}`;
    default:
      return `/v1/embeddings%2F${i}`;
  }
}

describe('10,000 distinct paths (issue 14 row 2)', () => {
  it('stay a bounded set of route labels and span names; no raw segment anywhere', async () => {
    const upstream = await startUpstream((req, res) => {
      req.resume();
      // Every answer echoes an id issued to another request: each one is an incident, so incidents are checked too.
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'issued-02' }).end('{}');
    });
    const { url, adminUrl, tracing, proxy, logs } = await startProxy(upstream.url, { incidentsLimit: 20_000 });
    await (await request(`${url}/v1/models`, { headers: { 'x-request-id': 'issued-02' } })).body.text();
    const client = new Agent({ connections: 16 });
    const N = 10_000;
    for (let start = 0; start < N; start += 200) {
      await Promise.all(
        Array.from({ length: 200 }, async (_, k) => {
          const i = start + k;
          const method = METHODS[i % METHODS.length] as string;
          const res = await request(`${url}${pathFor(i)}`, { method, dispatcher: client, ...(method === 'POST' && { body: '{}' }) });
          await res.body.dump();
        }),
      );
    }
    await client.close();
    const metrics = await scrape(adminUrl);

    const routes = new Set([...metrics.matchAll(/route="([^"]*)"/g)].map((m) => m[1]));
    for (const route of routes) expect(ROUTE_NAMES).toContain(route);
    expect(routes).toContain('other');
    // Series: bounded by routes × methods × status classes, whatever the number of paths.
    const series = metrics.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(series.length).toBeLessThan(2_000);
    expect(metrics.length).toBeLessThan(512 * 1024);

    const spans = tracing.exporter.getFinishedSpans();
    expect(spans.length).toBeGreaterThanOrEqual(N);
    const allowedNames = new Set(ROUTE_NAMES.flatMap((r) => METHODS.map((m) => `${m} ${r}`)).concat(['chat']));
    const names = new Set(spans.map((s) => s.name));
    for (const name of names) expect(allowedNames.has(name) || name.startsWith('chat'), name).toBe(true);
    // url.path: a known route's own path (its `{id}` an on-chain 0x id), else `other` — never an unknown path.
    for (const s of spans) {
      const path = String(s.attributes[ATTR_URL_PATH]);
      expect(path === OTHER_ROUTE || routeTemplate(path) !== OTHER_ROUTE, path).toBe(true);
    }

    const incidents = proxy.incidents.list(20_000);
    expect(incidents.length).toBeGreaterThanOrEqual(N);
    for (const incident of incidents) expect(ROUTE_NAMES).toContain(incident.path);

    const everything = [metrics, logs.join('\n'), JSON.stringify(incidents), [...names].join('\n'), JSON.stringify(spans.map((s) => s.attributes))].join('\n');
    for (const needle of [SECRET, '@example.com', 'user-', '%2F']) expect(everything.includes(needle), needle).toBe(false);
  }, 120_000);
});
