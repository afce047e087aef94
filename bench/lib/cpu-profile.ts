/**
 * Top self-time functions of a V8 `.cpuprofile` (what `node --cpu-prof` writes), for `npm run bench --
 * --cpu-prof` and by hand:  npx tsx bench/lib/cpu-profile.ts <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  share: number;
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) return url.slice(nm + 'node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist !== -1) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

/** Where a frame's code lives: an npm package, a file of ours, node's internals, or native/V8. */
function owner(url: string): string {
  if (url === '') return '(native / V8)';
  if (url.startsWith('node:')) return 'node: built-ins';
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const parts = url.slice(nm + 'node_modules/'.length).split('/');
    return (parts[0] ?? '').startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? url);
  }
  return shortUrl(url);
}

function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

/**
 * Sums the self time of every non-idle sample under the key `keyOf` gives its node (with `where` for display),
 * and returns the `top` keys by time.
 */
function sumSelfTime(
  profile: CpuProfile,
  top: number,
  keyOf: (node: ProfileNode) => { name: string; where: string },
): SelfTime[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, { name: string; where: string; us: number }>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (node === undefined || node.callFrame.functionName === '(idle)') return;
    const us = profile.timeDeltas[i] ?? 0;
    totalUs += us;
    const { name, where } = keyOf(node);
    const key = `${name}@${where}`;
    const entry = totals.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    totals.set(key, entry);
  });
  return [...totals.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({ name: e.name, where: e.where, ms: e.us / 1000, share: totalUs === 0 ? 0 : e.us / totalUs }));
}

const GC = '(garbage collector)';

/** Self time grouped by package (node_modules), source file (ours), node built-ins and native code. */
export function selfTimeByOwner(file: string, top = 12): SelfTime[] {
  return sumSelfTime(readProfile(file), top, ({ callFrame: f }) => ({
    name: f.functionName === GC ? GC : owner(f.url),
    where: '',
  }));
}

/**
 * Self time charged to the nearest caller outside node's built-ins and native code: a socket `writev` reached
 * from the relay's pump counts for `dist/proxy/relay.js`. Answers "whose work is this",
 * where plain self time mostly says "node:internal streams".
 */
export function selfTimeByNearestOwner(file: string, top = 15): SelfTime[] {
  const profile = readProfile(file);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const ownerOf = new Map<number, string>();
  const resolveOwner = (id: number): string => {
    const known = ownerOf.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    let result = '(root)';
    if (node !== undefined) {
      const { functionName, url } = node.callFrame;
      if (functionName === GC) result = GC;
      else if (url !== '' && !url.startsWith('node:')) result = owner(url);
      else {
        const up = parent.get(id);
        result = up === undefined ? '(root)' : resolveOwner(up);
      }
    }
    ownerOf.set(id, result);
    return result;
  };
  return sumSelfTime(profile, top, (node) => ({ name: resolveOwner(node.id), where: '' }));
}

export function topSelfTime(file: string, top = 15): SelfTime[] {
  return sumSelfTime(readProfile(file), top, ({ callFrame: f }) => ({
    name: f.functionName === '' ? '(anonymous)' : f.functionName,
    where: f.url === '' ? '' : `${shortUrl(f.url)}:${f.lineNumber + 1}`,
  }));
}

export function formatSelfTime(rows: readonly SelfTime[]): string[] {
  return rows.map((r) => `${(r.share * 100).toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(7)} ms  ${r.name}  ${r.where}`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (file === undefined) {
    console.error('usage: cpu-profile.ts <file.cpuprofile> [top]');
    process.exit(64);
  }
  console.log('charged to the nearest package / file on the stack:');
  for (const line of formatSelfTime(selfTimeByNearestOwner(file, 20))) console.log(`  ${line}`);
  console.log('by package / file:');
  for (const line of formatSelfTime(selfTimeByOwner(file))) console.log(`  ${line}`);
  console.log('top functions:');
  for (const line of formatSelfTime(topSelfTime(file, Number(process.argv[3] ?? '20')))) console.log(`  ${line}`);
}
