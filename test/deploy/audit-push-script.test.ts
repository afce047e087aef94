import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// The audit container's entrypoint (docker-compose.yml; the Kubernetes CronJob runs the same script): run the
// audit with --metrics-file, PUT the file to the Pushgateway, exit with the audit's status whatever the push did.
const root = fileURLToPath(new URL('../../', import.meta.url));
const compose = parse(readFileSync(`${root}docker-compose.yml`, 'utf8'), { merge: true }) as {
  services: { audit: { entrypoint: string[]; command: string[] } };
};
const [shell, flag, composeScript, argv0] = compose.services.audit.entrypoint as [string, string, string, string];
const script = composeScript.replaceAll('$$', '$'); // compose's escape for a literal $

const work = mkdtempSync(join(tmpdir(), 'crosstalk-audit-push-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
mkdirSync(join(work, 'dist'));
// Stands in for the image's dist/cli.js: records its args, writes the metrics file, exits FAKE_EXIT.
writeFileSync(
  join(work, 'dist', 'cli.js'),
  `const fs = require('node:fs');
   const args = process.argv.slice(2);
   fs.writeFileSync(${JSON.stringify(join(work, 'args.json'))}, JSON.stringify(args));
   const file = args[args.indexOf('--metrics-file') + 1];
   fs.writeFileSync(file, 'crosstalk_audit_verdict{database="compose",verdict="violation"} 1\\n');
   process.exit(Number(process.env.FAKE_EXIT));`,
);

function run(env: Record<string, string>): Promise<{ status: number | null; stderr: string }> {
  // The script writes /tmp/crosstalk-audit.prom in the image; here /tmp is the host's, so point it at the work dir.
  const local = script.replaceAll('/tmp/crosstalk-audit.prom', join(work, 'crosstalk-audit.prom'));
  return new Promise((resolve) => {
    const child = spawn(shell, [flag, local, argv0, ...compose.services.audit.command], {
      cwd: work,
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (status) => resolve({ status, stderr }));
  });
}

describe('the audit container script', () => {
  it('passes the audit its args plus --metrics-file, PUTs the file to job crosstalk-audit, keeps the exit status', async () => {
    const pushes: Array<{ method?: string; url?: string; body: string }> = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        pushes.push({ method: req.method, url: req.url, body });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const { status } = await run({ FAKE_EXIT: '1', PUSHGATEWAY_URL: `http://127.0.0.1:${port}` });
      expect(status).toBe(1);
      const args = JSON.parse(readFileSync(join(work, 'args.json'), 'utf8')) as string[];
      expect(args).toEqual([...compose.services.audit.command, '--metrics-file', join(work, 'crosstalk-audit.prom')]);
      expect(pushes).toEqual([
        { method: 'PUT', url: '/metrics/job/crosstalk-audit', body: 'crosstalk_audit_verdict{database="compose",verdict="violation"} 1\n' },
      ]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('still exits with the audit status when the Pushgateway is down, and says the push failed', async () => {
    const { status, stderr } = await run({ FAKE_EXIT: '0', PUSHGATEWAY_URL: 'http://127.0.0.1:9' });
    expect(status).toBe(0);
    expect(stderr).toContain('crosstalk-audit: metrics not pushed to http://127.0.0.1:9');
  });
});
