/**
 * The configurations under test, each a way to reach the same simulated router: direct, bare
 * @fastify/http-proxy, nginx (when installed), and the sidecar as built (dist/) with tracing to the local OTLP
 * receiver. Every proxy is its own process so its CPU and RSS can be read from /proc.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScavengeTally } from './gc-trace.js';
import { childPids } from './proc-stats.js';
import { findExecutable, freePort, httpOk, readyLine, spawnChild, tcpOpen, waitUntil, type Child } from './processes.js';

export const CONFIG_NAMES = ['direct', 'bare', 'nginx', 'sidecar', 'sidecar-notrace', 'sidecar-noinspect', 'sidecar-base'] as const;
export type ConfigName = (typeof CONFIG_NAMES)[number];
/**
 * What `npm run bench` compares. Diagnostics, on request: `sidecar-notrace` (OTEL_TRACES_EXPORTER=none) prices
 * tracing, `sidecar-noinspect` (`--inspection off`: forwarded and traced, never judged) prices detection.
 */
export const DEFAULT_CONFIGS: readonly ConfigName[] = ['direct', 'bare', 'nginx', 'sidecar'];

export const CONFIG_LABELS: Record<ConfigName, string> = {
  direct: 'direct',
  bare: 'bare http-proxy',
  nginx: 'nginx',
  sidecar: 'crosstalk',
  'sidecar-notrace': 'crosstalk -otel',
  'sidecar-noinspect': 'crosstalk -inspect',
  'sidecar-base': 'crosstalk (base)',
};

export interface ConfigEnv {
  /** Repository root (cwd of the children). */
  root: string;
  simUrl: string;
  receiverUrl: string;
  /** When set, node proxies run with `--cpu-prof` and write their profiles here. */
  cpuProfDir: string | undefined;
  /** `--gc`: node proxies run with `--trace-gc-nvp`, and their scavenges are tallied (gc-trace.ts). */
  gcTrace: boolean;
  /** The sidecar's entry point (default dist/cli.js): point it at another build to A/B a change. */
  sidecarCli: string;
  /**
   * `sidecar-base`: another build's entry point (`--base-cli`), run in the same rounds as `sidecar`, so a change is
   * A/B'd pairwise in one run (same machine state, interleaved) rather than across two runs.
   */
  baseCli: string | undefined;
  /**
   * Node flags of both node proxies, bare and sidecar (default: the sidecar's, src/proxy/node-flags.ts, which its
   * image runs with): the same for both, so their ratio compares code, not V8 settings.
   */
  nodeFlags: readonly string[];
}

export interface RunningConfig {
  readonly name: ConfigName;
  readonly origin: string;
  /** The processes whose CPU and RSS are the proxy's (empty for direct). */
  pids(): number[];
  /** A node process, whose code V8 optimises as it runs: settled before round 1 (bench/run.ts `settle`). */
  readonly node: boolean;
  /** Facts worth keeping per run (the sidecar's incident count). */
  extras(): Promise<Record<string, unknown>>;
  /** The node proxy's scavenges so far (with `--gc`; undefined for direct and nginx). */
  scavenges?(): ScavengeTally;
  stop(): Promise<void>;
}

/** Whether a configuration can run here; a reason when it cannot. */
export function configUnavailable(name: ConfigName, env?: Pick<ConfigEnv, 'baseCli'>): string | undefined {
  if (name === 'sidecar-base' && env?.baseCli === undefined) return '--base-cli <file> not given; skipped';
  if (name === 'nginx' && findExecutable('nginx') === undefined) {
    return 'nginx is not installed (apt-get install -y nginx); skipped';
  }
  return undefined;
}

const TSX_IMPORT = ['--import', 'tsx'];

/**
 * One directory per process: node names its profiles `CPU.<date>.<pid>.<thread>.…`, and tsx's loader thread
 * writes one too, so a fixed --cpu-prof-name would let the loader's profile overwrite the main thread's.
 */
function nodeArgs(env: ConfigEnv, label: string): string[] {
  const profile = env.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${join(env.cpuProfDir, `${label}-${Date.now()}`)}`];
  return [...env.nodeFlags, ...profile, ...(env.gcTrace ? ['--trace-gc-nvp'] : [])];
}

function node(env: ConfigEnv, label: string, script: string[], extraEnv: NodeJS.ProcessEnv = {}): Child {
  return spawnChild(label, process.execPath, [...nodeArgs(env, label), ...script], {
    cwd: env.root,
    env: { ...process.env, ...extraEnv },
  });
}

export async function startConfig(name: ConfigName, env: ConfigEnv): Promise<RunningConfig> {
  switch (name) {
    case 'direct':
      return {
        name,
        origin: env.simUrl,
        pids: () => [],
        node: false,
        extras: async () => ({}),
        stop: async () => undefined,
      };
    case 'bare':
      return startBare(env);
    case 'nginx':
      return startNginx(env);
    case 'sidecar':
      return startSidecar(env, 'sidecar', 'otlp');
    case 'sidecar-notrace':
      return startSidecar(env, 'sidecar-notrace', 'none');
    case 'sidecar-noinspect':
      return startSidecar(env, 'sidecar-noinspect', 'otlp', ['--inspection', 'off']);
    case 'sidecar-base':
      return startSidecar(env, 'sidecar-base', 'otlp');
  }
}

async function startBare(env: ConfigEnv): Promise<RunningConfig> {
  // tsx only transpiles at start-up; the request path runs the same JS fastify and undici run under plain node.
  const child = node(env, 'bare', [...TSX_IMPORT, 'bench/bare-proxy.ts', env.simUrl, '0']);
  const ready = await readyLine<{ url: string }>(child).catch(async (err: unknown) => {
    await child.stop();
    throw err;
  });
  return {
    name: 'bare',
    origin: ready.url,
    pids: () => [child.pid],
    node: true,
    extras: async () => ({}),
    ...(env.gcTrace && { scavenges: () => child.scavenges() }),
    stop: () => child.stop(),
  };
}

async function startSidecar(
  env: ConfigEnv,
  name: 'sidecar' | 'sidecar-notrace' | 'sidecar-noinspect' | 'sidecar-base',
  exporter: 'otlp' | 'none',
  extraArgs: readonly string[] = [],
): Promise<RunningConfig> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const child = node(
    env,
    name,
    [
      name === 'sidecar-base' ? (env.baseCli as string) : env.sidecarCli,
      'proxy',
      '--upstream',
      env.simUrl,
      '--port',
      String(port),
      '--admin-port',
      String(adminPort),
      '--fingerprint-secret',
      'crosstalk-bench',
      ...extraArgs,
    ],
    {
      OTEL_TRACES_EXPORTER: exporter,
      OTEL_EXPORTER_OTLP_ENDPOINT: env.receiverUrl,
      OTEL_SERVICE_NAME: 'crosstalk-bench',
    },
  );
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  try {
    await waitUntil(child, 'readyz', () => httpOk(`${adminUrl}/readyz`));
    await waitUntil(child, 'proxy port', () => tcpOpen(port));
  } catch (err) {
    await child.stop();
    throw err;
  }
  return {
    name,
    origin: `http://127.0.0.1:${port}`,
    pids: () => [child.pid],
    node: true,
    ...(env.gcTrace && { scavenges: () => child.scavenges() }),
    async extras() {
      try {
        const res = await fetch(`${adminUrl}/incidents?limit=3`);
        const body = (await res.json()) as { total?: number; incidents?: unknown[] };
        return { incidents: body.total ?? 0, incidentSamples: body.incidents ?? [] };
      } catch (err) {
        return { incidentsError: err instanceof Error ? err.message : String(err) };
      }
    },
    stop: () => child.stop(),
  };
}

/**
 * nginx as people run it in front of an SSE service: buffering off both ways, HTTP/1.1 with keep-alive to the
 * upstream, one worker (the other processes hold the second core), access log off.
 */
export function nginxConfig(dir: string, port: number, upstream: URL): string {
  return `worker_processes 1;
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_rlimit_nofile 16384;
events {
  worker_connections 8192;
}
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/client_body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  upstream router {
    server ${upstream.hostname}:${upstream.port};
    keepalive 1024;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
  server {
    listen 127.0.0.1:${port};
    keepalive_requests 1000000;
    location / {
      proxy_pass http://router;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 300s;
    }
  }
}
`;
}

async function startNginx(env: ConfigEnv): Promise<RunningConfig> {
  const binary = findExecutable('nginx');
  if (binary === undefined) throw new Error('nginx is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'crosstalk-bench-nginx-'));
  // Workers drop to `nobody` when the master runs as root; they must still reach the temp paths.
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'tmp'), { mode: 0o777 });
  chmodSync(join(dir, 'tmp'), 0o777);
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, port, new URL(env.simUrl)));
  const child = spawnChild('nginx', binary, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
    cwd: dir,
  });
  try {
    await waitUntil(child, 'listening', () => tcpOpen(port));
    await waitUntil(child, 'worker started', async () => childPids(child.pid).length > 0);
  } catch (err) {
    await child.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    name: 'nginx',
    origin: `http://127.0.0.1:${port}`,
    pids: () => [child.pid, ...childPids(child.pid)],
    node: false,
    extras: async () => ({}),
    async stop() {
      // SIGTERM is nginx's fast shutdown; the master waits for its workers.
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
