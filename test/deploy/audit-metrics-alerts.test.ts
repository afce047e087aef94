import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { renderAuditMetrics } from '../../src/audit/metrics-file.js';
import type { AuditReport } from '../../src/audit/result.js';

// The audit alerts read what `crosstalk audit --metrics-file` really writes: render it for three databases, load
// the samples as promtool input series (as the Pushgateway would expose them) and check which alerts fire.
const rules = fileURLToPath(new URL('../../deploy/prometheus/crosstalk-alerts.yml', import.meta.url));
const promtool = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).stdout.trim();
const dir = mkdtempSync(join(tmpdir(), 'crosstalk-audit-alerts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const database = (label: string, outcome: string, violation: number, warning: number) => ({
  label,
  outcome,
  checks: [{ findings: { violation, warning } }],
});
// Only the fields renderAuditMetrics reads.
const report = {
  databases: [database('prod', 'violation', 2, 0), database('dev', 'unverified', 0, 0), database('staging', 'clean', 0, 0)],
} as unknown as AuditReport;

describe.skipIf(promtool === '')('audit alerts on the audit metrics file (skipped without promtool)', () => {
  it('pages on prod’s violation, tickets dev’s unverified, leaves staging alone, and goes stale after 26 h', () => {
    // Finished at t=0 of promtool's clock.
    const text = renderAuditMetrics(report, 0);
    const series = text
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((line) => {
        const [, name, labels, value] = /^(\w+)\{(.*)\} (\S+)$/.exec(line) as unknown as [string, string, string, string];
        return { series: `${name}{job="crosstalk-audit",instance="pushgateway:9091",${labels}}`, values: `${value}x30` };
      });
    expect(series.length).toBe(3 * (1 + 5 + 2));
    const test = {
      rule_files: ['crosstalk-alerts.yml'],
      evaluation_interval: '1h',
      tests: [
        {
          interval: '1h',
          input_series: series,
          alert_rule_test: [
            { eval_time: '1h', alertname: 'CrosstalkAuditViolation', exp_alerts: [{ exp_labels: { severity: 'page', database: 'prod' } }] },
            {
              eval_time: '1h',
              alertname: 'CrosstalkAuditNotClean',
              exp_alerts: [{ exp_labels: { severity: 'ticket', database: 'dev', verdict: 'unverified' } }],
            },
            { eval_time: '1h', alertname: 'CrosstalkAuditStale', exp_alerts: [] },
            {
              eval_time: '27h',
              alertname: 'CrosstalkAuditStale',
              exp_alerts: ['dev', 'prod', 'staging'].map((db) => ({ exp_labels: { severity: 'ticket', database: db } })),
            },
            { eval_time: '27h', alertname: 'CrosstalkAuditMissing', exp_alerts: [] },
          ],
        },
      ],
    };
    // The shipped rules without their annotations: this test is about which alerts fire (the annotations are
    // checked by crosstalk-alerts.test.yml), and promtool compares annotations too.
    const doc = parse(readFileSync(rules, 'utf8')) as { groups: Array<{ rules: Array<Record<string, unknown>> }> };
    for (const group of doc.groups) for (const rule of group.rules) delete rule['annotations'];
    writeFileSync(join(dir, 'crosstalk-alerts.yml'), stringify(doc));
    writeFileSync(join(dir, 'audit.test.yml'), stringify(test));
    const run = spawnSync(promtool, ['test', 'rules', 'audit.test.yml'], { cwd: dir, encoding: 'utf8' });
    expect(run.stdout + run.stderr).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });
});
