import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { cliFlags } from '../../src/config/option.js';
import { registerProxyCommand } from '../../src/proxy/command.js';
import { resolveProxyConfig } from '../../src/proxy/options.js';
import { createProxyServer } from '../../src/proxy/server.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { startUpstream } from '../helpers/proxy-harness.js';
import { createTestTracing } from '../helpers/tracing.js';

// The sidecar exactly as deploy/kubernetes starts it (its args through the CLI), on loopback: what the kubelet
// probes must answer without the token, what the PodMonitor scrapes must need it.
const root = fileURLToPath(new URL('../../', import.meta.url));
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const deployment = parseAllDocuments(readFileSync(`${root}deploy/kubernetes/gateway-with-sidecar.yaml`, 'utf8'))
  .map((d) => d.toJS() as Doc)
  .find((d) => d['kind'] === 'Deployment') as Doc;
const sidecar = (deployment['spec']['template']['spec']['initContainers'] as Doc[]).find((c) => c['name'] === 'crosstalk-sidecar') as Doc;
const TOKEN = 'k8s-admin-token-value';
const dir = mkdtempSync(join(tmpdir(), 'crosstalk-k8s-admin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFromManifest() {
  const args = (sidecar['args'] as unknown[]).map(String).map((a) => {
    if (!a.startsWith('/var/run/secrets/crosstalk/')) return a;
    const local = join(dir, a.split('/').at(-1) as string);
    writeFileSync(local, a.endsWith('admin-token') ? `${TOKEN}\n` : 'fingerprint-secret-value\n');
    return local;
  });
  const program = new Command('crosstalk').exitOverride().configureOutput({ writeErr: () => undefined });
  registerProxyCommand(program);
  const cmd = program.commands.find((c) => c.name() === 'proxy') as Command;
  let flags: Record<string, unknown> = {};
  cmd.action(() => {
    flags = cliFlags(cmd);
  });
  program.parse(['node', 'crosstalk', ...args]);
  return resolveProxyConfig(flags, {});
}

describe('the admin port as deploy/kubernetes configures it', () => {
  it('answers the probes without a token and requires the token for /metrics and /incidents', async () => {
    const config = configFromManifest();
    expect(config.adminToken).toBe(TOKEN);
    const upstream = await startUpstream((_req, res) => res.writeHead(200).end('ok'));
    const tracing = createTestTracing();
    // Same config, but on loopback, free ports and the local upstream.
    const proxy = createProxyServer(
      { ...config, upstream: new URL(upstream.url), host: '127.0.0.1', port: 0, adminHost: '127.0.0.1', adminPort: 0 },
      { tracer: tracing.tracer, logger: createLogger('error') },
    );
    const { adminUrl } = await proxy.listen();
    try {
      const probes = ['startupProbe', 'livenessProbe', 'readinessProbe'].map((p) => sidecar[p]['httpGet']['path'] as string);
      for (const path of probes) {
        const res = await request(`${adminUrl}${path}`);
        await res.body.text();
        expect(res.statusCode, path).toBe(200);
      }
      for (const path of ['/metrics', '/incidents']) {
        const anonymous = await request(`${adminUrl}${path}`);
        await anonymous.body.text();
        expect(anonymous.statusCode, `${path} without the token`).toBe(401);
        const wrong = await request(`${adminUrl}${path}`, { headers: { authorization: 'Bearer not-the-token' } });
        await wrong.body.text();
        expect(wrong.statusCode, `${path} with a wrong token`).toBe(401);
        const scraped = await request(`${adminUrl}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
        await scraped.body.text();
        expect(scraped.statusCode, `${path} with the token`).toBe(200);
      }
    } finally {
      await proxy.close();
      await tracing.shutdown();
    }
  });
});
