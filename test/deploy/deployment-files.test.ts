import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROXY_NODE_FLAGS } from '../../src/proxy/node-flags.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string): string => readFileSync(`${root}${file}`, 'utf8');
// Compose resolves `<<:` merge keys; so must we.
const load = (file: string): unknown => parse(read(file), { merge: true });

type Doc = Record<string, unknown>;
const obj = (value: unknown): Doc => {
  expect(value, 'expected a mapping').toBeTypeOf('object');
  return value as Doc;
};
const list = (value: unknown): unknown[] => {
  expect(Array.isArray(value), 'expected a list').toBe(true);
  return value as unknown[];
};

/** Go RE2 `(?i)` prefix → a JS RegExp, enough for the patterns we write. */
function re2(pattern: string): RegExp {
  return pattern.startsWith('(?i)') ? new RegExp(pattern.slice(4), 'i') : new RegExp(pattern);
}

describe('otel-collector.yaml', () => {
  const config = obj(load('otel-collector.yaml'));
  const receivers = obj(config['receivers']);
  const processors = obj(config['processors']);
  const exporters = obj(config['exporters']);
  const extensions = obj(config['extensions']);
  const service = obj(config['service']);
  const traces = obj(obj(service['pipelines'])['traces']);

  it('receives OTLP on gRPC 4317 and HTTP 4318 on all interfaces', () => {
    const protocols = obj(obj(receivers['otlp'])['protocols']);
    expect(obj(protocols['grpc'])['endpoint']).toBe('0.0.0.0:4317');
    expect(obj(protocols['http'])['endpoint']).toBe('0.0.0.0:4318');
    expect(traces['receivers']).toEqual(['otlp']);
  });

  it('runs memory_limiter first, the redaction steps, and batch last', () => {
    const chain = list(traces['processors']);
    expect(chain[0]).toBe('memory_limiter');
    expect(chain.at(-1)).toBe('batch');
    expect(chain).toEqual(['memory_limiter', 'attributes/redact', 'redaction/secrets', 'batch']);
    const limiter = obj(processors['memory_limiter']);
    expect(limiter['check_interval']).toBeDefined();
    expect(limiter['limit_mib']).toBeTypeOf('number');
    for (const name of chain) expect(processors, `processor ${String(name)} is defined`).toHaveProperty([String(name)]);
  });

  it('deletes authorization headers and masks sk- keys and Basic/Bearer credentials', () => {
    const actions = list(obj(processors['attributes/redact'])['actions']).map(obj);
    const deleted = actions.filter((a) => a['action'] === 'delete');
    const keys = deleted.map((a) => a['key']).filter((k) => k !== undefined);
    expect(keys).toEqual(expect.arrayContaining(['authorization', 'http.request.header.authorization']));
    const pattern = re2(String(deleted.find((a) => a['pattern'] !== undefined)?.['pattern']));
    expect(pattern.test('http.request.header.authorization')).toBe(true);
    expect(pattern.test('http.request.header.proxy_authorization')).toBe(true);
    expect(pattern.test('http.request.header.x-request-id')).toBe(false);

    const redaction = obj(processors['redaction/secrets']);
    expect(redaction['allow_all_keys']).toBe(true);
    const blocked = list(redaction['blocked_values']).map((p) => re2(String(p)));
    const masked = (value: string): boolean => blocked.some((r) => r.test(value));
    const secret = `sk-AbC123.${'0123456789abcdef'.repeat(4)}`;
    expect(masked(`key=${secret}`)).toBe(true);
    expect(masked('Basic YWRtaW46Y3Jvc3N0YWxrLXNpbQ==')).toBe(true);
    expect(masked('Bearer eyJhbGciOiJIUzI1NiJ9.e30.x')).toBe(true);
    // The public prefix alone (api_keys.key_prefix) is not a secret and stays searchable.
    expect(masked('sk-AbC123')).toBe(false);
    expect(masked('chatcmpl-0a1b2c3d4e5f')).toBe(false);
  });

  it('exports OTLP/gRPC to jaeger:4317 without TLS, and exposes health_check on 13133', () => {
    const names = list(traces['exporters']);
    expect(names).toEqual(['otlp_grpc/jaeger']);
    const jaeger = obj(exporters['otlp_grpc/jaeger']);
    expect(jaeger['endpoint']).toBe('jaeger:4317');
    expect(obj(jaeger['tls'])['insecure']).toBe(true);
    expect(Object.keys(exporters).some((k) => k === 'jaeger' || k.startsWith('jaeger/'))).toBe(false);
    expect(obj(extensions['health_check'])['endpoint']).toBe('0.0.0.0:13133');
    expect(service['extensions']).toEqual(['health_check']);
  });
});

describe('docker-compose.yml', () => {
  const compose = obj(load('docker-compose.yml'));
  const services = obj(compose['services']);
  const service = (name: string): Doc => obj(services[name]);
  const env = (name: string): Doc => obj(service(name)['environment']);

  it('has the whole stack, each service with a build or an image and a real healthcheck', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'audit',
        'grafana',
        'jaeger',
        'otel-collector',
        'postgres',
        'prometheus',
        'pushgateway',
        'router-sim',
        'secrets-init',
        'sidecar',
      ].sort(),
    );
    for (const [name, raw] of Object.entries(services)) {
      const s = obj(raw);
      expect(s['build'] !== undefined || s['image'] !== undefined, `${name} has build or image`).toBe(true);
      const health = obj(s['healthcheck']);
      expect(health['disable'], `${name} healthcheck enabled`).toBeUndefined();
      const test = list(health['test']);
      expect(['CMD', 'CMD-SHELL'], `${name} healthcheck test`).toContain(test[0]);
      expect(test.length).toBeGreaterThan(1);
    }
  });

  it('only depends on services it defines, waiting for them to be healthy (one-shot secrets-init: done)', () => {
    for (const [name, raw] of Object.entries(services)) {
      const deps = obj(raw)['depends_on'];
      if (deps === undefined) continue;
      for (const [dep, condition] of Object.entries(obj(deps))) {
        expect(services, `${name} depends on ${dep}`).toHaveProperty([dep]);
        expect(obj(condition)['condition']).toBe(
          dep === 'secrets-init' ? 'service_completed_successfully' : 'service_healthy',
        );
      }
    }
  });

  it('keeps the fingerprint secret and the admin token in a volume, off the command line and out of this file', () => {
    const sidecarEnv = env('sidecar');
    expect(sidecarEnv['CROSSTALK_FINGERPRINT_SECRET']).toBeUndefined();
    expect(sidecarEnv['CROSSTALK_FINGERPRINT_SECRET_FILE']).toBe('/run/secrets/crosstalk/fingerprint-secret');
    expect(sidecarEnv['CROSSTALK_ADMIN_TOKEN_FILE']).toBe('/run/secrets/crosstalk/admin-token');
    expect(list(service('sidecar')['volumes'])).toContain('crosstalk-secrets:/run/secrets/crosstalk:ro');
    expect(list(service('secrets-init')['volumes'])).toContain('crosstalk-secrets:/secrets');
    expect(obj(compose['volumes'])).toHaveProperty(['crosstalk-secrets']);
    // Prometheus scrapes /metrics with the same token file.
    expect(list(service('prometheus')['volumes'])).toContain('crosstalk-secrets:/run/secrets/crosstalk:ro');
    const jobs = list(obj(load('deploy/prometheus/prometheus.yml'))['scrape_configs']).map(obj);
    const sidecarJob = jobs.find((j) => j['job_name'] === 'crosstalk-sidecar') ?? {};
    expect(obj(sidecarJob['authorization'])).toEqual({ type: 'Bearer', credentials_file: '/run/secrets/crosstalk/admin-token' });
  });

  it('wires the sidecar to the simulated router and the collector, and healthchecks its admin port', () => {
    const routerCommand = list(service('router-sim')['command']).map(String);
    expect(routerCommand.slice(0, 1)).toEqual(['simulate-router']);
    const routerPort = routerCommand[routerCommand.indexOf('--port') + 1];
    expect(routerCommand[routerCommand.indexOf('--host') + 1]).toBe('0.0.0.0');

    expect(service('sidecar')['command']).toEqual(['proxy']);
    expect(env('sidecar')).toMatchObject({
      CROSSTALK_UPSTREAM_URL: `http://router-sim:${routerPort ?? ''}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318',
      OTEL_SERVICE_NAME: 'crosstalk-sidecar',
      HOST: '0.0.0.0',
      CROSSTALK_ADMIN_PORT: '9464',
      CROSSTALK_ADMIN_HOST: '0.0.0.0',
    });
    // The admin port (/incidents lists session ids and key prefixes) is published on the host's loopback only.
    expect(list(service('sidecar')['ports'])).toContain('127.0.0.1:9464:9464');
    expect(list(obj(service('sidecar')['healthcheck'])['test']).join(' ')).toContain('127.0.0.1:9464/healthz');
    expect(list(obj(service('router-sim')['healthcheck'])['test']).join(' ')).toContain(
      `127.0.0.1:${routerPort ?? ''}/healthcheck`,
    );
    for (const name of ['sidecar', 'router-sim', 'audit']) {
      expect(obj(service(name)['build'])['dockerfile'], `${name} uses the Dockerfile`).toBe('Dockerfile');
    }
  });

  it('mounts the collector config where its --config points, and publishes OTLP, Jaeger UI and the proxy', () => {
    const collector = service('otel-collector');
    const config = String(list(collector['command']).find((a) => String(a).startsWith('--config=')));
    const target = config.slice('--config='.length);
    expect(list(collector['volumes'])).toContain(`./otel-collector.yaml:${target}:ro`);
    expect(String(obj(collector['build'])['dockerfile_inline'])).toMatch(/FROM otel\/opentelemetry-collector-contrib:/);
    expect(list(collector['ports'])).toEqual(expect.arrayContaining(['4317:4317', '4318:4318']));
    expect(list(service('jaeger')['ports'])).toContain('16686:16686');
    expect(list(service('sidecar')['ports'])).toContain('8080:8080');
  });

  it('seeds postgres from deploy/postgres and runs the audit once against it', () => {
    const postgres = service('postgres');
    expect(String(postgres['image'])).toMatch(/^postgres:15/);
    expect(list(postgres['volumes'])).toContain('./deploy/postgres:/docker-entrypoint-initdb.d:ro');
    expect(list(obj(postgres['healthcheck'])['test']).join(' ')).toContain('pg_isready');
    expect(env('postgres')['POSTGRES_DB']).toBe('gateway');

    const audit = service('audit');
    expect(audit['restart']).toBe('no');
    expect(audit['command']).toEqual(['audit', '--db', 'compose=postgres://postgres:postgres@postgres:5432/gateway']);
    expect(obj(obj(audit['depends_on'])['postgres'])['condition']).toBe('service_healthy');
    // The entrypoint runs the audit with --metrics-file and pushes the file (test/deploy/audit-push-script.test.ts).
    expect(list(audit['entrypoint']).slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(obj(audit['environment'])['PUSHGATEWAY_URL']).toBe('http://pushgateway:9091');
    expect(obj(obj(audit['depends_on'])['pushgateway'])['condition']).toBe('service_healthy');
  });

  it('runs Prometheus on deploy/prometheus (config beside the rules) and Grafana with the provisioned dashboard', () => {
    const prometheus = service('prometheus');
    const args = list(prometheus['command']).map(String);
    expect(args).toContain('--config.file=/etc/prometheus/prometheus.yml');
    expect(list(prometheus['volumes'])).toContain('./deploy/prometheus:/etc/prometheus:ro');
    const config = obj(load('deploy/prometheus/prometheus.yml'));
    expect(config['rule_files']).toEqual(['crosstalk-alerts.yml']);
    const jobs = list(config['scrape_configs']).map(obj);
    const sidecarJob = jobs.find((j) => j['job_name'] === 'crosstalk-sidecar');
    expect(list(obj(list(sidecarJob?.['static_configs'])[0])['targets'])).toEqual(['sidecar:9464']);
    const auditJob = jobs.find((j) => j['job_name'] === 'crosstalk-audit');
    expect(auditJob?.['honor_labels']).toBe(true);
    expect(list(obj(list(auditJob?.['static_configs'])[0])['targets'])).toEqual(['pushgateway:9091']);

    const grafana = service('grafana');
    expect(list(grafana['volumes'])).toEqual(
      expect.arrayContaining([
        './deploy/grafana/provisioning:/etc/grafana/provisioning:ro',
        './deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro',
      ]),
    );
    const provider = obj(list(obj(load('deploy/grafana/provisioning/dashboards/crosstalk.yml'))['providers'])[0]);
    expect(obj(provider['options'])['path']).toBe('/var/lib/grafana/dashboards');
    const datasource = obj(list(obj(load('deploy/grafana/provisioning/datasources/prometheus.yml'))['datasources'])[0]);
    expect(datasource).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090', uid: 'prometheus' });
    for (const name of ['prometheus', 'grafana']) {
      expect(list(service(name)['ports']).every((p) => String(p).startsWith('127.0.0.1:')), `${name} on loopback`).toBe(true);
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('builds in one stage and runs production dependencies as the node user in another', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/RUN npm ci --no-audit --no-fund\n/);
    expect(dockerfile).toMatch(/RUN npm run build\n/);
    expect(dockerfile).toMatch(/RUN npm ci --omit=dev/);
    expect(dockerfile).toMatch(/COPY --from=build \/app\/dist \.\/dist/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^CMD \["proxy"\]$/m);
  });

  it("starts node with the sidecar's node flags, which this node accepts", () => {
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(entrypoint, 'an exec-form ENTRYPOINT').toBeDefined();
    expect(JSON.parse(entrypoint ?? '[]')).toEqual(['node', ...PROXY_NODE_FLAGS, 'dist/cli.js']);
    // node exits with "bad option" on a flag it does not know.
    const run = spawnSync(process.execPath, [...PROXY_NODE_FLAGS, '-e', '0'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('keeps node_modules, git history and env files out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.git', 'dist', '.env']));
  });
});
