import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Incident } from '../../src/proxy/incidents.js';
import { summarizeIncidents } from '../../src/incidents/summary.js';

const run = promisify(execFile);

function incident(p: Partial<Incident> & Pick<Incident, 'requestId' | 'time'>): Incident {
  return { traceId: 'ab'.repeat(16), method: 'POST', path: '/v1/chat/completions', reasons: ['completion_id_collision'], evidence: [], blocked: false, inflight: { apiKey: 0, session: 0 }, relatedRequestIds: [], completionIds: [], ...p };
}

// Replica 1 holds the victim of a replay and the (late-found) other half; replica 2 the victim of a swap.
const now = Date.parse('2026-12-02T08:00:00Z');
const replica1 = [
  incident({ requestId: 'r-victim', time: '2026-12-02T07:50:00Z', apiKeyPrefix: 'sk-BBBBBB', session: '0xs2', replica: 'replica-1', relatedRequestIds: ['r-origin'] }),
  incident({ requestId: 'r-origin', time: '2026-12-02T07:49:00Z', apiKeyPrefix: 'sk-AAAAAA', session: '0xs1', replica: 'replica-1', relatedRequestIds: ['r-victim'] }),
  incident({ requestId: 'old', time: '2026-11-30T07:00:00Z', apiKeyPrefix: 'sk-OLDOLD' }),
];
const replica2 = [
  incident({
    requestId: 'swap-b',
    time: '2026-12-02T07:55:00Z',
    apiKeyPrefix: 'sk-BBBBBB',
    session: '0xs3',
    replica: 'replica-2',
    reasons: ['model_mismatch'],
    relatedRequestIds: ['unflagged-x'],
    // The other request was served by replica 1 and has no incident of its own: where it ran comes from here.
    relatedRequests: [{ requestId: 'unflagged-x', replica: 'replica-1', traceId: 'cd'.repeat(16) }],
  }),
  // The same incident seen through two admin URLs (a worker primary and a replica listed twice) counts once.
  replica1[0] as Incident,
];

describe('crosstalk incidents', () => {
  it('names, per incident and in total, which key prefixes and sessions received whose data', () => {
    const s = summarizeIncidents([...replica1, ...replica2], now - 24 * 3_600_000);
    expect(s.incidents.map((l) => l.receiver.requestId)).toEqual(['swap-b', 'r-victim', 'r-origin']);
    expect(s.incidents[1]?.others).toEqual([{ requestId: 'r-origin', apiKeyPrefix: 'sk-AAAAAA', session: '0xs1', replica: 'replica-1', traceId: 'ab'.repeat(16) }]);
    expect(s.incidents[0]?.receiver).toMatchObject({ requestId: 'swap-b', replica: 'replica-2' });
    expect(s.incidents[0]?.others).toEqual([{ requestId: 'unflagged-x', replica: 'replica-1', traceId: 'cd'.repeat(16) }]);
    expect(s.byKey).toEqual([
      { apiKeyPrefix: 'sk-BBBBBB', incidents: 2, sessions: ['0xs2', '0xs3'], dataFrom: ['request unflagged-x', 'sk-AAAAAA'] },
      { apiKeyPrefix: 'sk-AAAAAA', incidents: 1, sessions: ['0xs1'], dataFrom: ['sk-BBBBBB'] },
    ]);
    expect(s.affectedKeys).toEqual(['sk-AAAAAA', 'sk-BBBBBB']);
    expect(s.affectedSessions).toEqual(['0xs1', '0xs2', '0xs3']);
  });

  it('reads several sidecars\' admin URLs with the bearer token, as a command', async () => {
    const seen: (string | undefined)[] = [];
    const serve = async (items: Incident[]) => {
      const server = http.createServer((req, res) => {
        seen.push(req.headers.authorization);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ total: items.length, incidents: items }));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };
    const recent = (i: Incident) => ({ ...i, time: new Date(Date.now() - 60_000).toISOString() });
    const [a, b] = [await serve(replica1.slice(0, 2).map(recent)), await serve([recent(replica2[0] as Incident)])];
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/crosstalk-incidents-');
    writeFileSync(`${dir}/token`, 'admin-secret\n');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'incidents', '--admin-url', a, '--admin-url', b, '--admin-token-file', `${dir}/token`, '--since', '1h'], {
      env: { PATH: process.env.PATH ?? '' },
      timeout: 30_000,
    });
    expect(seen).toEqual(['Bearer admin-secret', 'Bearer admin-secret']);
    expect(stdout).toContain('3 incident(s) since');
    expect(stdout).toContain('from 2 sidecar(s)');
    expect(stdout).toContain('sk-BBBBBB: 2 incident(s)');
    expect(stdout).toContain(`(request unflagged-x, replica replica-1, trace ${'cd'.repeat(16)})`);
    expect(stdout).toContain('Key prefixes to notify (2): sk-AAAAAA, sk-BBBBBB');
    expect(stdout).not.toContain('admin-secret');
  });
});
