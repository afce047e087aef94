import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parse, stringify } from 'yaml';
import { startProxy, startUpstream } from '../helpers/proxy-harness.js';
import { findPrometheus, startPrometheus, until } from './prometheus-process.js';

const rulesPath = fileURLToPath(new URL('../../deploy/prometheus/crosstalk-alerts.yml', import.meta.url));
const configPath = fileURLToPath(new URL('../../deploy/prometheus/prometheus.yml', import.meta.url));
const ADMIN_TOKEN = 'scrape-test-admin-token';
const bin = findPrometheus();
if (!bin) console.warn('prometheus-scrape-alert: skipped, no `prometheus` binary on PATH (apt-get install prometheus; .ci/run does)');

interface Rule {
  alert?: string;
  expr: string;
}
interface Alert {
  labels: Record<string, string>;
  state: string;
}

/**
 * The shipped rules file, with CrosstalkDetected's 5-minute window shortened so it resolves within the test.
 * Nothing else changes: the expression, labels and the rest of the file are the ones deployed.
 */
function rulesWithShortWindow(): string {
  const doc = parse(readFileSync(rulesPath, 'utf8')) as { groups: Array<{ rules: Rule[] }> };
  const rule = doc.groups.flatMap((g) => g.rules).find((r) => r.alert === 'CrosstalkDetected');
  expect(rule?.expr.trim()).toBe('increase(crosstalk_detected_total[5m]) > 0');
  if (rule) rule.expr = rule.expr.replace('[5m]', '[8s]');
  return stringify(doc);
}

/** One streamed answer with its own completion id (a repeated id would be a second finding). */
const sse = (n: number) =>
  `data: {"id":"chatcmpl-${n}","object":"chat.completion.chunk","model":"llama-3.3-70b","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n` +
  `data: {"id":"chatcmpl-${n}","object":"chat.completion.chunk","model":"llama-3.3-70b","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n` +
  'data: [DONE]\n\n';

describe.skipIf(!bin)('Prometheus scraping a running sidecar (skipped without a prometheus binary)', () => {
  it('fires CrosstalkDetected after a foreign response and resolves it after the window', { timeout: 120_000 }, async () => {
    // The upstream echoes the request id it is told to: its own, or (injected) the previous request's.
    let echoOverride: string | undefined;
    let answers = 0;
    const upstream = await startUpstream((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'x-request-id': echoOverride ?? String(req.headers['x-request-id']),
        });
        res.end(sse(++answers));
      });
    });
    // The sidecar with an admin token, as deployed: /metrics needs it.
    const { url, adminUrl } = await startProxy(upstream.url, { adminToken: ADMIN_TOKEN });
    const chat = async (requestId: string) => {
      const res = await request(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-request-id': requestId },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], stream: true }),
      });
      await res.body.text();
      expect(res.statusCode).toBe(200);
    };

    // The shipped scrape job (job name, path, bearer token file), aimed at this sidecar and scraped every second.
    const tokenDir = mkdtempSync(join(tmpdir(), 'crosstalk-scrape-token-'));
    onTestFinished(() => rmSync(tokenDir, { recursive: true, force: true }));
    writeFileSync(join(tokenDir, 'admin-token'), `${ADMIN_TOKEN}\n`);
    const shipped = parse(readFileSync(configPath, 'utf8')) as { scrape_configs: Array<Record<string, unknown>> };
    const job = shipped.scrape_configs.find((j) => j['job_name'] === 'crosstalk-sidecar') as Record<string, unknown>;
    const target = new URL(adminUrl).host;
    const prometheus = await startPrometheus(
      bin as string,
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: ['rules.yml'],
        scrape_configs: [
          {
            ...job,
            authorization: { ...(job['authorization'] as object), credentials_file: join(tokenDir, 'admin-token') },
            static_configs: [{ targets: [target] }],
          },
        ],
      }),
      { 'rules.yml': rulesWithShortWindow() },
    );
    onTestFinished(() => prometheus.stop());

    type Query = { data: { result: Array<{ value: [number, string] }> } };
    const detected = async () =>
      (await prometheus.api<Query>('/api/v1/query?query=' + encodeURIComponent('crosstalk_detected_total{job="crosstalk-sidecar",reason="request_id_mismatch"}')))
        .data.result[0]?.value[1];
    const crosstalkAlerts = async () =>
      (await prometheus.api<{ data: { alerts: Alert[] } }>('/api/v1/alerts')).data.alerts.filter(
        (a) => a.labels['alertname'] === 'CrosstalkDetected',
      );

    // The scrape succeeds with the token (a 401 would show here as the target's lastError).
    type Targets = { data: { activeTargets: Array<{ health: string; lastError: string }> } };
    let lastError = '';
    await until('the sidecar target up', async () => {
      const t = (await prometheus.api<Targets>('/api/v1/targets')).data.activeTargets[0];
      lastError = t?.lastError ?? '';
      return t?.health === 'up' ? true : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message} (last scrape error: ${lastError})`);
    });

    // Clean traffic first, and a scrape of the pre-declared zero: the finding must be an increase.
    await chat('clean-1');
    await until('a scrape with crosstalk_detected_total at 0', async () => ((await detected()) === '0' ? true : undefined));
    expect(await crosstalkAlerts()).toEqual([]);

    // The foreign response: the upstream answers with another request's id.
    echoOverride = 'clean-1';
    await chat('victim-2');
    echoOverride = undefined;
    const incidents = (await (
      await request(`${adminUrl}/incidents`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    ).body.json()) as { incidents: Array<{ reasons: string[] }> };
    expect(incidents.incidents[0]?.reasons).toEqual(['request_id_mismatch']);

    const firing = await until('CrosstalkDetected firing', async () => {
      const alerts = await crosstalkAlerts();
      return alerts.some((a) => a.state === 'firing') ? alerts : undefined;
    });
    expect(firing).toHaveLength(1);
    expect(firing[0]?.labels).toMatchObject({
      alertname: 'CrosstalkDetected',
      job: 'crosstalk-sidecar',
      instance: target,
      reason: 'request_id_mismatch',
      severity: 'page',
    });

    // More clean traffic; no new finding, so the alert resolves once the window has passed.
    await chat('clean-3');
    await until('CrosstalkDetected resolved', async () => ((await crosstalkAlerts()).length === 0 ? true : undefined));
    expect(await detected()).toBe('1');
  });
});
