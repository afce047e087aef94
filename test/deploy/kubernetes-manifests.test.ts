import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { registerAuditCommand } from '../../src/audit/command.js';
import { resolveAuditConfig } from '../../src/audit/options.js';
import { cliFlags } from '../../src/config/option.js';
import { registerProxyCommand } from '../../src/proxy/command.js';
import { resolveProxyConfig } from '../../src/proxy/options.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = `${root}deploy/kubernetes/`;
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const docs = (file: string): Doc[] =>
  parseAllDocuments(readFileSync(`${dir}${file}`, 'utf8')).map((d) => {
    expect(d.errors, `${file} parses`).toEqual([]);
    return d.toJS() as Doc;
  });
const one = (file: string, kind: string): Doc => {
  const found = docs(file).filter((d) => d['kind'] === kind);
  expect(found, `${file} has one ${kind}`).toHaveLength(1);
  return found[0] as Doc;
};

const deployment = one('gateway-with-sidecar.yaml', 'Deployment');
const pod = deployment['spec']['template'] as Doc;
const sidecar = (pod['spec']['initContainers'] as Doc[]).find((c) => c['name'] === 'crosstalk-sidecar') as Doc;
const gateway = (pod['spec']['containers'] as Doc[]).find((c) => c['name'] === 'gateway') as Doc;
const podMonitor = one('podmonitor.yaml', 'PodMonitor');
const cronJob = one('audit-cronjob.yaml', 'CronJob');
const auditPod = cronJob['spec']['jobTemplate']['spec']['template'] as Doc;
const audit = (auditPod['spec']['containers'] as Doc[])[0] as Doc;
const port = (container: Doc, name: string): number =>
  (container['ports'] as Doc[]).find((p) => p['name'] === name)?.['containerPort'] as number;

/** Where each mounted file of a Secret volume lands: `{ "<mountPath>/<item path>": { secret, key } }`. */
function secretFiles(podSpec: Doc, container: Doc): Map<string, { secret: string; key: string }> {
  const out = new Map<string, { secret: string; key: string }>();
  for (const mount of container['volumeMounts'] as Doc[]) {
    const volume = (podSpec['volumes'] as Doc[]).find((v) => v['name'] === mount['name']) as Doc;
    expect(volume, `volume ${String(mount['name'])}`).toBeDefined();
    if (!volume['secret']) continue;
    expect(mount['readOnly']).toBe(true);
    for (const item of volume['secret']['items'] as Doc[]) {
      out.set(`${String(mount['mountPath'])}/${String(item['path'])}`, { secret: volume['secret']['secretName'], key: item['key'] });
    }
  }
  return out;
}

/**
 * The sidecar's args through the CLI itself: `crosstalk proxy`'s commander declaration (an unknown flag throws)
 * and resolveProxyConfig (a bad value throws). Mounted secret files are replaced by temp files with a value.
 */
const temp = mkdtempSync(join(tmpdir(), 'crosstalk-k8s-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
function proxyConfigOf(args: string[], files: Map<string, unknown>) {
  const program = new Command('crosstalk').exitOverride().configureOutput({ writeErr: () => undefined });
  registerProxyCommand(program);
  const cmd = program.commands.find((c) => c.name() === 'proxy') as Command;
  let flags: Record<string, unknown> = {};
  cmd.action(() => {
    flags = cliFlags(cmd);
  });
  let i = 0;
  const localArgs = args.map((a) => {
    if (!files.has(a)) return a;
    const local = join(temp, `secret-${i++}`);
    writeFileSync(local, 'k8s-test-secret-value\n');
    return local;
  });
  program.parse(['node', 'crosstalk', ...localArgs]);
  return { flags, config: resolveProxyConfig(flags, {}) };
}
const flagValue = (args: string[], flag: string): string | undefined => {
  const i = args.indexOf(flag);
  return i === -1 ? undefined : args[i + 1];
};

describe('deploy/kubernetes: the sidecar in the gateway pod', () => {
  const args = (sidecar['args'] as unknown[]).map(String);
  const files = secretFiles(pod['spec'], sidecar);

  it('starts `crosstalk proxy` with flags the CLI declares and values it accepts', () => {
    expect(sidecar['command'], 'the image ENTRYPOINT (node flags + dist/cli.js) is kept').toBeUndefined();
    expect(args[0]).toBe('proxy');
    const { config } = proxyConfigOf(args, files);
    expect(config.host).toBe('127.0.0.1');
    expect(config.adminHost).toBe('0.0.0.0');
    expect(config.port).toBe(port(sidecar, 'proxy'));
    expect(config.adminPort).toBe(port(sidecar, 'admin'));
  });

  it('reads the fingerprint secret and the admin token from the mounted Secret, never from args or env', () => {
    for (const flag of ['--fingerprint-secret-file', '--admin-token-file']) {
      const path = flagValue(args, flag);
      expect(files.get(path ?? ''), `${flag} ${String(path)} is a mounted secret file`).toBeDefined();
    }
    expect(args).not.toContain('--fingerprint-secret');
    expect(JSON.stringify(sidecar['env'] ?? [])).not.toMatch(/FINGERPRINT_SECRET"|ADMIN_TOKEN"/);
    const secrets = new Set([...files.values()].map((f) => f.secret));
    expect([...secrets]).toEqual(['crosstalk-sidecar']);
    // The CLI read both files (their content, without the trailing newline).
    const { config } = proxyConfigOf(args, files);
    expect(config.fingerprintSecret).toBe('k8s-test-secret-value');
    expect(config.adminToken).toBe('k8s-test-secret-value');
  });

  it('points the gateway at the sidecar', () => {
    const url = new URL((gateway['env'] as Doc[]).find((e) => e['name'] === 'PROXY_ROUTER_URL')?.['value'] as string);
    const { config } = proxyConfigOf(args, files);
    expect(url.hostname).toBe(config.host);
    expect(Number(url.port)).toBe(config.port);
  });

  it('probes /healthz and /readyz on the admin port, as a native sidecar that starts first', () => {
    expect(sidecar['restartPolicy']).toBe('Always');
    for (const probe of ['startupProbe', 'livenessProbe']) expect(sidecar[probe]['httpGet']).toEqual({ path: '/healthz', port: 'admin' });
    expect(sidecar['readinessProbe']['httpGet']).toEqual({ path: '/readyz', port: 'admin' });
  });

  it('runs as the image user, non-root, read-only root filesystem, no privileges, /tmp writable', () => {
    const sc = sidecar['securityContext'] as Doc;
    expect(sc).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    // Dockerfile: USER node (uid 1000 in the node images).
    expect(readFileSync(`${root}Dockerfile`, 'utf8')).toMatch(/^USER node$/m);
    expect(sc['runAsUser']).toBe(1000);
    expect((sidecar['volumeMounts'] as Doc[]).some((m) => m['mountPath'] === '/tmp')).toBe(true);
    expect(pod['spec']['securityContext']['fsGroup']).toBe(sc['runAsGroup']);
  });

  it('is sized from the bench: memory limit ≥ 1.5 × the worst peak RSS, cpu request ≥ 64 paced streams', () => {
    const bench = JSON.parse(readFileSync(`${root}bench/results/latest.json`, 'utf8')) as {
      scenarios: Array<{ id: string; configs: Array<{ config: string; median?: Record<string, number> }> }>;
    };
    const side = (s: (typeof bench.scenarios)[number]) => s.configs.find((c) => c.config === 'sidecar')?.median ?? {};
    const peakMb = Math.max(...bench.scenarios.map((s) => side(s)['peakRssMb'] ?? 0));
    expect(peakMb).toBeGreaterThan(50);
    const paced = side(bench.scenarios.find((s) => s.id === 'c64-delay5') as (typeof bench.scenarios)[number]);
    const cores = ((paced['requestsPerSec'] ?? 0) * (paced['cpuSecPer1k'] ?? 0)) / 1000;
    const mi = (q: string) => Number(/^(\d+)Mi$/.exec(q)?.[1]);
    const millicores = (q: string) => Number(/^(\d+)m$/.exec(q)?.[1]);
    const { requests, limits } = sidecar['resources'] as { requests: Record<string, string>; limits: Record<string, string> };
    expect(mi(limits['memory'] as string) * 1.048576).toBeGreaterThanOrEqual(1.5 * peakMb);
    expect(millicores(requests['cpu'] as string) / 1000).toBeGreaterThanOrEqual(cores);
    expect(limits['cpu'], 'no CPU limit (throttling delays every relayed chunk)').toBeUndefined();
  });

  it('is scraped with the admin token as job="crosstalk-sidecar", the job the alert rules select', () => {
    const labels = pod['metadata']['labels'] as Record<string, string>;
    expect(labels).toMatchObject(podMonitor['spec']['selector']['matchLabels']);
    expect(labels[podMonitor['spec']['jobLabel'] as string]).toBe('crosstalk-sidecar');
    expect(readFileSync(`${root}deploy/prometheus/crosstalk-alerts.yml`, 'utf8')).toContain('up{job="crosstalk-sidecar"}');
    const endpoint = (podMonitor['spec']['podMetricsEndpoints'] as Doc[])[0] as Doc;
    expect(endpoint).toMatchObject({ port: 'admin', path: '/metrics' });
    expect(port(sidecar, endpoint['port'] as string)).toBeDefined();
    const credentials = endpoint['authorization']['credentials'] as Doc;
    const tokenFile = flagValue(args, '--admin-token-file') ?? '';
    expect(files.get(tokenFile)).toEqual({ secret: credentials['name'], key: credentials['key'] });
    const annotations = pod['metadata']['annotations'] as Record<string, string>;
    expect(Number(annotations['prometheus.io/port'])).toBe(port(sidecar, 'admin'));
    expect(annotations['prometheus.io/path']).toBe('/metrics');
  });
});

describe('deploy/kubernetes: rules, audit, kustomization', () => {
  it('ships the promtool-tested rules unchanged as a PrometheusRule', () => {
    const rule = one('prometheus-rule.yaml', 'PrometheusRule');
    const source = parse(readFileSync(`${root}deploy/prometheus/crosstalk-alerts.yml`, 'utf8')) as Doc;
    expect(rule['spec']['groups']).toEqual(source['groups']);
  });

  it('runs the audit with flags and env the CLI accepts, and --metrics-file on the writable /tmp', () => {
    const script = String((audit['command'] as unknown[])[2]);
    const metricsFile = /--metrics-file (\S+)/.exec(script)?.[1] ?? '';
    expect(metricsFile.startsWith('/tmp/')).toBe(true);
    expect((audit['volumeMounts'] as Doc[]).some((m) => m['mountPath'] === '/tmp')).toBe(true);
    const program = new Command('crosstalk').exitOverride().configureOutput({ writeErr: () => undefined });
    registerAuditCommand(program);
    const cmd = program.commands.find((c) => c.name() === 'audit') as Command;
    let flags: Record<string, unknown> = {};
    cmd.action((opts: Record<string, unknown>) => {
      flags = opts;
    });
    program.parse(['node', 'crosstalk', ...(audit['args'] as string[]), '--metrics-file', metricsFile]);
    const env = audit['env'] as Doc[];
    const db = env.find((e) => e['name'] === 'CROSSTALK_AUDIT_DATABASES') as Doc;
    expect(db['valueFrom']['secretKeyRef']).toEqual({ name: 'crosstalk-audit-db', key: 'databases' });
    const config = resolveAuditConfig(flags, { CROSSTALK_AUDIT_DATABASES: 'prod=postgres://crosstalk_audit:pw@db:5432/gateway' });
    expect(config.metricsFile).toBe(metricsFile);
    expect(config.databases.map((d) => d.label)).toEqual(['prod']);
  });

  it('runs the same audit-and-push script as docker-compose.yml, pushing to the Pushgateway Service', () => {
    const compose = parse(readFileSync(`${root}docker-compose.yml`, 'utf8'), { merge: true }) as Doc;
    const composeScript = String(compose['services']['audit']['entrypoint'][2]).replaceAll('$$', '$');
    expect(String((audit['command'] as unknown[])[2])).toBe(composeScript);
    const service = docs('pushgateway.yaml').find((d) => d['kind'] === 'Service') as Doc;
    const push = new URL((audit['env'] as Doc[]).find((e) => e['name'] === 'PUSHGATEWAY_URL')?.['value'] as string);
    expect(push.hostname).toBe(service['metadata']['name']);
    expect(Number(push.port)).toBe(service['spec']['ports'][0]['port']);
  });

  it('keeps the audit job non-root, read-only and single-attempt', () => {
    expect(audit['securityContext']).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(cronJob['spec']['concurrencyPolicy']).toBe('Forbid');
    expect(cronJob['spec']['jobTemplate']['spec']['backoffLimit']).toBe(0);
    expect(auditPod['spec']['automountServiceAccountToken']).toBe(false);
  });

  it('lists every manifest in kustomization.yaml, each of which exists', () => {
    const kustomization = parse(readFileSync(`${dir}kustomization.yaml`, 'utf8')) as { resources: string[] };
    for (const file of kustomization.resources) expect(existsSync(`${dir}${file}`), file).toBe(true);
    expect(kustomization.resources).toEqual(
      expect.arrayContaining(['gateway-with-sidecar.yaml', 'podmonitor.yaml', 'prometheus-rule.yaml', 'pushgateway.yaml', 'audit-cronjob.yaml']),
    );
  });
});
