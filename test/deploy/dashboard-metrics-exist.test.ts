import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { METRIC_FINDINGS, METRIC_LAST_RUN, METRIC_VERDICT } from '../../src/audit/metrics-file.js';
import { proxyConfigFor } from '../../src/proxy/options.js';
import { createProxyServer, type ProxyServer } from '../../src/proxy/server.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { ProxyMetrics } from '../../src/telemetry/metrics.js';
import { createTestTracing } from '../helpers/tracing.js';
import { startUpstream } from '../helpers/proxy-harness.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dashboard = JSON.parse(readFileSync(`${root}deploy/grafana/dashboards/crosstalk-sidecar.json`, 'utf8')) as Record<string, unknown>;
const rules = parse(readFileSync(`${root}deploy/prometheus/crosstalk-alerts.yml`, 'utf8')) as {
  groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
};
/** What `crosstalk audit --metrics-file` writes (node_exporter textfile format); not on the sidecar's /metrics. */
const AUDIT_METRICS = new Set([METRIC_LAST_RUN, METRIC_VERDICT, METRIC_FINDINGS]);

/** Every `expr` (and templating `query`) anywhere in the dashboard JSON. */
function dashboardExprs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) dashboardExprs(item, out);
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'expr' && typeof value === 'string') out.push(value);
      else if (key === 'query' && typeof value === 'object' && value !== null && 'query' in value) out.push(String(value.query));
      else dashboardExprs(value, out);
    }
  }
  return out;
}
const ruleExprs = rules.groups.flatMap((g) => g.rules.map((r) => r.expr));

const METRIC_NAME = /\b(crosstalk_[a-z0-9_]+)\b/g;
const names = (exprs: string[]) => new Set(exprs.flatMap((e) => [...e.matchAll(METRIC_NAME)].map((m) => m[1] as string)));
/** `metric{…label="value"…}` equality matchers, without Grafana variables. */
function equalityMatchers(exprs: string[]): Array<{ metric: string; label: string; value: string }> {
  const out: Array<{ metric: string; label: string; value: string }> = [];
  for (const expr of exprs) {
    for (const m of expr.matchAll(/\b(crosstalk_[a-z0-9_]+)\{([^}]*)\}/g)) {
      for (const l of (m[2] as string).matchAll(/([a-z_]+)\s*=\s*"([^"]*)"/g)) {
        const [, label, value] = l as unknown as [string, string, string];
        if (value.includes('$') || label === 'job' || label === 'instance') continue;
        out.push({ metric: m[1] as string, label, value });
      }
    }
  }
  return out;
}

describe('the dashboard and the alert rules name only metrics a running sidecar exposes', () => {
  let proxy: ProxyServer;
  let scrape = '';
  const tracing = createTestTracing();

  beforeAll(async () => {
    let n = 0;
    const upstream = await startUpstream((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url?.startsWith('/v1/chat/completions')) {
          n += 1;
          res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': String(req.headers['x-request-id']) });
          res.write(`data: {"id":"chatcmpl-${n}","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n`);
          res.end('data: [DONE]\n\n');
        } else {
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[]}');
        }
      });
    });
    // As `crosstalk proxy` builds it: with the process metrics (memory, event-loop lag).
    proxy = createProxyServer(proxyConfigFor(upstream.url, { fingerprintSecret: 'fp' }), {
      tracer: tracing.tracer,
      logger: createLogger('error'),
      metrics: new ProxyMetrics({ processMetrics: true }),
    });
    const { url, adminUrl } = await proxy.listen();
    const chat = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: '{"messages":[{"role":"user","content":"hi"}],"stream":true}',
    });
    await chat.body.text();
    await (await request(`${url}/v1/models`)).body.text();
    scrape = await (await request(`${adminUrl}/metrics`)).body.text();
  }, 30_000);

  afterAll(async () => {
    await proxy.close();
    await tracing.shutdown();
  });

  /**
   * The metric names the sidecar declares (`# TYPE` lines: a labelled counter with no event yet, such as
   * upstream errors, has no sample but is declared), with a histogram's `_bucket`, `_sum` and `_count`.
   */
  const exposed = () => {
    const out = new Set<string>();
    for (const line of scrape.split('\n')) {
      const m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/.exec(line);
      if (!m) continue;
      const [, name, type] = m as unknown as [string, string, string];
      out.add(name);
      if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) out.add(`${name}${suffix}`);
    }
    return out;
  };

  it('every sidecar metric the dashboard queries is on /metrics, audit metrics are the audit file’s', () => {
    const have = exposed();
    const used = names(dashboardExprs(dashboard));
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) {
      if (AUDIT_METRICS.has(name)) continue;
      expect(have.has(name), `dashboard metric ${name} on /metrics`).toBe(true);
    }
    expect([...used].filter((n) => AUDIT_METRICS.has(n)).sort()).toEqual([...AUDIT_METRICS].sort());
  });

  it('every metric an alert rule names is on /metrics or in the audit file', () => {
    const have = exposed();
    for (const name of names(ruleExprs)) {
      expect(have.has(name) || AUDIT_METRICS.has(name), `rule metric ${name}`).toBe(true);
    }
  });

  it('every label value the dashboard and the rules match on exists in the scrape', () => {
    const matchers = equalityMatchers([...dashboardExprs(dashboard), ...ruleExprs]).filter((m) => !AUDIT_METRICS.has(m.metric));
    expect(matchers.length).toBeGreaterThan(3);
    for (const { metric, label, value } of matchers) {
      const series = scrape.split('\n').filter((l) => l.startsWith(`${metric}{`));
      expect(series.some((l) => l.includes(`${label}="${value}"`)), `${metric}{${label}="${value}"}`).toBe(true);
    }
  });

  it('has the panels the ops kit promises', () => {
    const titles = (dashboard['panels'] as Array<{ title: string }>).map((p) => p.title);
    expect(titles).toEqual(
      expect.arrayContaining([
        'Requests by route',
        'In flight by route',
        'Time to first chunk',
        'Incidents by reason',
        'Inspection coverage',
        'Spans exported vs dropped',
        'Process memory',
        'Event-loop lag',
      ]),
    );
    const used = names(dashboardExprs(dashboard));
    for (const name of [
      'crosstalk_proxy_requests_total',
      'crosstalk_proxy_requests_in_flight_by_route',
      'crosstalk_proxy_time_to_first_chunk_seconds_bucket',
      'crosstalk_detected_total',
      'crosstalk_responses_inspected_total',
      'crosstalk_spans_exported_total',
      'crosstalk_spans_dropped_total',
      'crosstalk_process_resident_memory_bytes',
      'crosstalk_nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(used.has(name), name).toBe(true);
    }
    // The provisioned datasource's uid is what the datasource variable defaults to.
    expect(JSON.stringify(dashboard)).toContain('"uid": "${datasource}"'.replaceAll(' ', ''));
  });

  it('lays its panels out on the 24-column grid, without overlaps, with unique ids', () => {
    const panels = dashboard['panels'] as Array<{ id: number; title: string; gridPos: { x: number; y: number; w: number; h: number } }>;
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const [i, a] of panels.entries()) {
      expect(a.gridPos.x + a.gridPos.w, a.title).toBeLessThanOrEqual(24);
      for (const b of panels.slice(i + 1)) {
        const overlap =
          a.gridPos.x < b.gridPos.x + b.gridPos.w &&
          b.gridPos.x < a.gridPos.x + a.gridPos.w &&
          a.gridPos.y < b.gridPos.y + b.gridPos.h &&
          b.gridPos.y < a.gridPos.y + a.gridPos.h;
        expect(overlap, `${a.title} overlaps ${b.title}`).toBe(false);
      }
    }
  });

  const promtool = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).stdout.trim();
  it.skipIf(promtool === '')('every dashboard query is valid PromQL (promtool; skipped without it)', () => {
    const exprs = dashboardExprs(dashboard)
      .filter((e) => !e.startsWith('label_values('))
      .map((e) =>
        e
          .replaceAll('$__rate_interval', '1m')
          .replaceAll('$__range', '1h')
          .replaceAll('$job', 'crosstalk-sidecar')
          .replaceAll('$instance', '.*')
          .replaceAll('$audit_job', 'crosstalk-audit'),
      );
    const dir = mkdtempSync(join(tmpdir(), 'crosstalk-dashboard-'));
    try {
      const file = join(dir, 'queries.yml');
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `dashboard:q${i}`, expr })) }] }));
      const run = spawnSync(promtool, ['check', 'rules', file], { encoding: 'utf8' });
      expect(run.stdout + run.stderr).toContain(`SUCCESS: ${exprs.length} rules found`);
      expect(run.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
