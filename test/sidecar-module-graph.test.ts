import { readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// What `crosstalk proxy` loads: the static import graph from src/cli.ts (dynamic `import()` is on use only, as the
// demo's is). Every package it reaches must be a production dependency, and the embedded PostgreSQL packages
// (demo and tests only) must not be among them (issue 16 item 3).
const root = fileURLToPath(new URL('../', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?!type\s)(?:[^;'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

function staticGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
      if (spec === undefined) continue;
      if (spec.startsWith('.')) queue.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (!spec.startsWith('node:')) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0] as string);
    }
  }
  return { files, packages };
}

describe('the sidecar loads production dependencies only', () => {
  const { files, packages } = staticGraph(`${root}src/cli.ts`);

  it('walks the real graph (the proxy, audit and probe modules are in it)', () => {
    const rel = [...files].map((f) => f.slice(root.length));
    expect(rel).toContain('src/proxy/server.ts');
    expect(rel).toContain('src/audit/run-audit.ts');
    expect(packages).toContain('fastify');
  });

  it('never statically reaches the embedded PostgreSQL packages or the demo runner', () => {
    expect([...packages].filter((p) => p.startsWith('@electric-sql/'))).toEqual([]);
    expect([...files].map((f) => f.slice(root.length))).not.toContain('src/demo/run-demo.ts');
    expect(pkg.dependencies['@electric-sql/pglite']).toBeUndefined();
    expect(pkg.devDependencies['@electric-sql/pglite']).toBeDefined();
  });

  it('every package it reaches is a production dependency (the image installs --omit=dev)', () => {
    const missing = [...packages].filter((p) => !(p in pkg.dependencies));
    expect(missing).toEqual([]);
  });

  it('every production dependency is used by the shipped code', () => {
    // Whole src/, dynamic imports included: a production dependency nothing imports is dead weight in the image.
    const sources = (readdirSync(`${root}src`, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
    const text = sources.map((f) => readFileSync(`${root}src/${f}`, 'utf8')).join('\n');
    const unused = Object.keys(pkg.dependencies).filter((d) => !text.includes(`'${d}`));
    expect(unused).toEqual([]);
  });
});
