import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// Issue 16 item 3: package.json's entry points name files the build produces. The build maps src/X.ts to
// dist/X.js and dist/X.d.ts (tsconfig.build.json: rootDir src, outDir dist, declaration), so each entry must have
// its source file; and the library entry must load without running anything.
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { main: string; types: string; bin: Record<string, string> };

function sourceOf(built: string): string {
  const m = /^dist\/(.+?)(\.d\.ts|\.js)$/.exec(built);
  if (m === null) throw new Error(`${built} is not under dist/`);
  return `src/${m[1] as string}.ts`;
}

describe('package.json entry points', () => {
  it('main, types and bin are built from source files that exist', () => {
    expect(existsSync(sourceOf(pkg.main))).toBe(true);
    expect(sourceOf(pkg.types)).toBe(sourceOf(pkg.main));
    for (const bin of Object.values(pkg.bin)) expect(existsSync(sourceOf(bin))).toBe(true);
    const build = JSON.parse(readFileSync('tsconfig.build.json', 'utf8')) as { compilerOptions: Record<string, unknown> };
    expect(build.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist', declaration: true });
  });

  it('the library entry exports the sidecar, the inspector and the public contract', async () => {
    const lib = await import('../src/index.js');
    expect(typeof lib.createProxyServer).toBe('function');
    expect(typeof lib.proxyConfigFor).toBe('function');
    expect(typeof lib.ResponseInspector).toBe('function');
    expect(lib.REASON_CODES).toContain('completion_id_collision');
    expect(lib.attributes.CROSSTALK_REQUEST_ID).toBe('crosstalk.request_id');
    expect(lib.headers.HEADER_REQUEST_ID).toBe('x-request-id');
  });
});
