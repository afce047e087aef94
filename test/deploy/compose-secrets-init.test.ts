import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// docker-compose.yml's secrets-init: random secrets on the first run, the same ones on every later run.
const root = fileURLToPath(new URL('../../', import.meta.url));
const compose = parse(readFileSync(`${root}docker-compose.yml`, 'utf8'), { merge: true }) as {
  services: Record<string, { entrypoint: string[] }>;
};
const [node, evalFlag, script] = compose.services['secrets-init']?.entrypoint as [string, string, string];
const dir = mkdtempSync(join(tmpdir(), 'crosstalk-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const asRoot = process.getuid?.() === 0;
// The container runs it as root; here chown to uid 1000 needs root too.
const local = script.replaceAll("'/secrets/'", JSON.stringify(`${dir}/`)).replace(asRoot ? /$^/ : /fs\.chownSync\([^)]*\);/, '');
const run = () => spawnSync(node === 'node' ? process.execPath : node, [evalFlag, local], { encoding: 'utf8' });

describe('secrets-init', () => {
  it('writes a 256-bit fingerprint secret (owner-only) and admin token once, and keeps them', () => {
    expect(run().status).toBe(0);
    const secret = readFileSync(join(dir, 'fingerprint-secret'), 'utf8');
    const token = readFileSync(join(dir, 'admin-token'), 'utf8');
    expect(secret).toMatch(/^[0-9a-f]{64}\n$/);
    expect(token).toMatch(/^[0-9a-f]{64}\n$/);
    expect(secret).not.toBe(token);
    expect(statSync(join(dir, 'fingerprint-secret')).mode & 0o777).toBe(0o400);
    expect(statSync(join(dir, 'admin-token')).mode & 0o777).toBe(0o444);
    if (asRoot) expect(statSync(join(dir, 'fingerprint-secret')).uid).toBe(1000);

    expect(run().status).toBe(0);
    expect(readFileSync(join(dir, 'fingerprint-secret'), 'utf8')).toBe(secret);
    expect(readFileSync(join(dir, 'admin-token'), 'utf8')).toBe(token);
  });
});
