/**
 * The bench's replicas section (issue 17): `bench/two-replicas.ts` run as a child on the built sidecar — one
 * sidecar against two (in-memory stores, and sharing through `--store redis://…`), and `--workers 2` against one
 * worker in the CPU-bound case — with its rows turned into ratios against the references.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ReplicaRow {
  id: string;
  requests: number;
  errors: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuMsPerRequest: number;
}

export interface ReplicasSection {
  status: 'ran' | 'skipped' | 'failed';
  note: string;
  rows: ReplicaRow[];
  /** CPU per request and p99 of each two-replica configuration ÷ one sidecar's; --workers 2 ÷ 1 throughput. */
  ratios: { twoMemCpu?: number; twoMemP99?: number; twoRedisCpu?: number; twoRedisP99?: number; workers2Throughput?: number };
}

const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || b === 0 ? undefined : Number((a / b).toFixed(3));

export function runReplicasSection(options: {
  root: string;
  wanted: boolean;
  skipNote: string;
  cli: string;
  durationSec: number;
  log: (line: string) => void;
}): ReplicasSection {
  const empty = { rows: [], ratios: {} };
  if (!options.wanted) return { status: 'skipped', note: options.skipNote, ...empty };
  const out = join(tmpdir(), `crosstalk-two-replicas-${process.pid}.json`);
  options.log(`\nreplicas: bench/two-replicas.ts (${options.durationSec} s windows${process.env.REDIS_URL === undefined ? '; REDIS_URL not set: the Redis configurations are skipped' : ''}) …`);
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'bench/two-replicas.ts', '--cli', options.cli, '--duration', String(options.durationSec), '--out', out],
    { cwd: options.root, stdio: ['ignore', 'ignore', 'inherit'], timeout: 15 * 60_000 },
  );
  if (child.status !== 0) return { status: 'failed', note: `bench/two-replicas.ts exited ${child.status ?? child.signal}`, ...empty };
  let rows: ReplicaRow[];
  try {
    rows = (JSON.parse(readFileSync(out, 'utf8')) as { results: ReplicaRow[] }).results;
  } catch (err) {
    return { status: 'failed', note: `bench/two-replicas.ts wrote no results (${err instanceof Error ? err.message : String(err)})`, ...empty };
  } finally {
    rmSync(out, { force: true });
  }
  const by = (id: string) => rows.find((r) => r.id === id);
  const one = by('one');
  const ratios: ReplicasSection['ratios'] = {};
  const set = (key: keyof ReplicasSection['ratios'], value: number | undefined) => {
    if (value !== undefined) ratios[key] = value;
  };
  set('twoMemCpu', ratio(by('two-mem')?.cpuMsPerRequest, one?.cpuMsPerRequest));
  set('twoMemP99', ratio(by('two-mem')?.p99Ms, one?.p99Ms));
  set('twoRedisCpu', ratio(by('two-redis')?.cpuMsPerRequest, one?.cpuMsPerRequest));
  set('twoRedisP99', ratio(by('two-redis')?.p99Ms, one?.p99Ms));
  set('workers2Throughput', ratio(by('w2-redis')?.rps, by('w1-redis')?.rps));
  return { status: 'ran', note: 'ok', rows, ratios };
}

/** The section's lines for the bench's table. */
export function replicasTable(s: ReplicasSection): string[] {
  const lines = [`── replicas: ${s.status} (${s.note})`];
  if (s.rows.length === 0) return lines;
  lines.push('  config      req/s    p50 ms    p99 ms  cpu ms/req  errors');
  for (const r of s.rows) {
    lines.push(`  ${r.id.padEnd(10)} ${String(r.rps).padStart(6)} ${r.p50Ms.toFixed(2).padStart(9)} ${r.p99Ms.toFixed(2).padStart(9)} ${r.cpuMsPerRequest.toFixed(3).padStart(11)} ${String(r.errors).padStart(7)}`);
  }
  const f = (v: number | undefined) => (v === undefined ? 'n/a' : `${v.toFixed(2)}x`);
  const { ratios: q } = s;
  lines.push(`  vs one sidecar: two-mem cpu/req ${f(q.twoMemCpu)}, p99 ${f(q.twoMemP99)}; two-redis cpu/req ${f(q.twoRedisCpu)}, p99 ${f(q.twoRedisP99)}`);
  lines.push(`  --workers 2 ÷ 1 worker, CPU-bound throughput: ${f(q.workers2Throughput)}`);
  return lines;
}
