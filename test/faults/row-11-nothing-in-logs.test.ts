import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { fingerprintKey } from '../../src/proxy/api-key.js';
import { resolveProxyConfig } from '../../src/proxy/options.js';
import { CROSSTALK_API_KEY_FINGERPRINT } from '../../src/telemetry/attributes.js';
import { waitForSpan } from '../helpers/proxy-harness.js';
import { startRawUpstream } from '../helpers/raw-upstream.js';
import { MODES, startProxyLogging } from './fault-kit.js';

/**
 * Issue 14 row 11: at trace level the raw request packet (Basic credential, `sk-` secret) was logged, and upstream
 * parse errors at warn quoted the upstream's bytes. Must: no packet, body bytes or header value in any log line at
 * any level; the fingerprint secret from a file (--fingerprint-secret-file), never on the command line.
 */

const ROUTER_PASSWORD = 'Rt-pa55-word-11';
const BASIC = 'Basic ' + Buffer.from(`router:${ROUTER_PASSWORD}`).toString('base64');
const KEY = 'sk-LogTst.' + 'ab12'.repeat(16);
const REQ_MARK = 'REQUEST-BODY-MARK-11';
const HDR_MARK = 'HEADER-VALUE-MARK-11';
const UP_MARK = 'UPSTREAM-BYTES-MARK-11';

/** Upstream answers that break HTTP, each carrying the upstream marker in the bytes a parser would quote. */
const BROKEN: Record<string, string> = {
  'invalid status line': `HTTP/1.1 2x0 ${UP_MARK}\r\ncontent-length: 0\r\n\r\n`,
  'not HTTP at all': `${UP_MARK} garbage\r\n\r\n`,
  'invalid header name': `HTTP/1.1 200 OK\r\nx-${UP_MARK} bad: 1\r\ncontent-length: 0\r\n\r\n`,
  'invalid header value': `HTTP/1.1 200 OK\r\nx-ok: ${UP_MARK}\u0001\u0002\r\ncontent-length: 0\r\n\r\n`,
  'bad chunk size': `HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\nzz${UP_MARK}\r\n\r\n`,
  'body shorter than its content-length': `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"id":"${UP_MARK}"`,
  'router auth failure with a body': `HTTP/1.1 401 Unauthorized\r\ncontent-type: text/plain\r\ncontent-length: ${27 + UP_MARK.length}\r\n\r\ninvalid username or passwd ${UP_MARK}`,
};

describe('nothing from a packet, a body or a header value in any log line, at trace level (issue 14 row 11)', () => {
  const cases = MODES.flatMap((mode) => Object.keys(BROKEN).map((k) => [mode, k] as const));

  it.each(cases)('%s mode, upstream sends %s', async (mode, kind) => {
    const upstream = await startRawUpstream((socket) => {
      socket.end(BROKEN[kind] as string);
    });
    const { url, logs } = await startProxyLogging(upstream.url, 'trace', { onCrosstalk: mode });
    for (const path of ['/v1/chat/completions', '/v1/models', `/v1/${HDR_MARK}`]) {
      const res = await request(`${url}${path}?q=${HDR_MARK}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: BASIC,
          'x-api-key': KEY,
          cookie: `s=${HDR_MARK}`,
          'user-agent': HDR_MARK,
          session_id: `0x${'ab'.repeat(32)}`,
          'x-request-id': `bad id ${HDR_MARK}`,
        },
        body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: `${REQ_MARK} ${KEY} ${ROUTER_PASSWORD}` }] }),
      }).catch(() => undefined);
      await res?.body.text().catch(() => undefined);
    }
    // Something was logged (the warn lines of the failures at least), none of it from the exchange's bytes.
    expect(logs.length).toBeGreaterThan(0);
    const text = logs.join("\n");
    for (const secret of [REQ_MARK, HDR_MARK, UP_MARK, KEY, KEY.slice(KEY.indexOf('.') + 1), BASIC, BASIC.slice(6), ROUTER_PASSWORD]) {
      expect(text.includes(secret), secret).toBe(false);
    }
  });
});

describe('--fingerprint-secret-file (issue 14 row 11)', () => {
  it('reads the secret from the file; fingerprints use it; the secret is in no log line, span or error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crosstalk-fp-'));
    const file = join(dir, 'fingerprint-secret');
    const secret = 'fp-secret-from-file-0123456789';
    writeFileSync(file, `${secret}\n`, { mode: 0o600 });
    const config = resolveProxyConfig({ upstream: 'http://127.0.0.1:1', fingerprintSecretFile: file }, {});
    expect(config.fingerprintSecret).toBe(secret);
    const fromEnv = resolveProxyConfig({ upstream: 'http://127.0.0.1:1' }, { CROSSTALK_FINGERPRINT_SECRET_FILE: file });
    expect(fromEnv.fingerprintSecret).toBe(secret);
    // A missing file names the option and the path, never any content.
    expect(() => resolveProxyConfig({ upstream: 'http://127.0.0.1:1', fingerprintSecretFile: join(dir, 'missing') }, {})).toThrow(/fingerprint-secret-file/);

    const upstream = await startRawUpstream((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}'));
    const { url, logs, tracing } = await startProxyLogging(upstream.url, 'trace', { fingerprintSecret: config.fingerprintSecret });
    await (await request(`${url}/v1/models`, { headers: { 'x-api-key': KEY } })).body.text();
    const span = await waitForSpan(tracing, (n) => n === 'GET /v1/models');
    expect(span.attributes[CROSSTALK_API_KEY_FINGERPRINT]).toBe(fingerprintKey(KEY, secret));
    const everything = logs.join('\n') + JSON.stringify(span.attributes);
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(KEY);
  });
});
