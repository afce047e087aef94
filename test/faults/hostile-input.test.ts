import { createHash } from 'node:crypto';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startProxy, startUpstream } from '../helpers/proxy-harness.js';
import { rawExchange, untilJsonBody } from '../helpers/raw-client.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** An upstream that answers every chat request with exactly `body` as SSE, in `pieces` writes. */
async function sseUpstream(body: Buffer, pieces = 7) {
  return startUpstream((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': String(req.headers['x-request-id']) });
    const step = Math.ceil(body.length / pieces);
    for (let i = 0; i < body.length; i += step) res.write(body.subarray(i, i + step));
    res.end();
  });
}

async function throughProxy(body: Buffer, headers: Record<string, string> = {}) {
  const upstream = await sseUpstream(body);
  const harness = await startProxy(upstream.url);
  const res = await request(`${harness.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: '{"stream":true}',
  });
  const got = Buffer.from(await res.body.arrayBuffer());
  // The process is still serving after the hostile exchange.
  const health = await request(`${harness.adminUrl}/healthz`);
  return { status: res.statusCode, got, healthy: health.statusCode === 200, ...harness };
}

describe('hostile input: nothing crashes, every byte still passes through unchanged in flag mode', () => {
  it.each([
    ['no blank lines at all', Buffer.from('data: {"id":"a"}\ndata: {"id":"b"}\n'.repeat(2000))],
    ['a 5 MB single event', Buffer.concat([Buffer.from('data: {"id":"big","x":"'), Buffer.alloc(5 * 1024 * 1024, 0x61), Buffer.from('"}\n\n')])],
    ['a 5 MB line with no newline at all', Buffer.alloc(5 * 1024 * 1024, 0x62)],
    ['invalid UTF-8', Buffer.concat([Buffer.from('data: {"id":"chatcmpl-u","model":"m\xff'), Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xf0, 0x28, 0x8c, 0x28]), Buffer.from('"}\n\n')])],
    ['JSON nested 100,000 deep', Buffer.from('data: ' + '['.repeat(100_000) + ']'.repeat(100_000) + '\n\n')],
    ['objects nested 50,000 deep', Buffer.from('data: ' + '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000) + '\n\n')],
    ['NUL bytes and control characters', Buffer.from('data: {"id":"chatcmpl-\u0000\u0001","model":"\u001b[31m"}\r\r\n\n\u0000\n\n')],
    ['fields the parser must ignore', Buffer.from('event: x\nid: 7\nretry: abc\nretry: 100\n: comment\nfoo: bar\ndata\ndata:\n\n')],
    ['a huge id and model', Buffer.from(`data: {"id":"${'i'.repeat(300_000)}","model":"${'m'.repeat(300_000)}"}\n\n`)],
  ])('%s', async (_label, body) => {
    const { status, got, healthy } = await throughProxy(body);
    expect(status).toBe(200);
    expect(got.length).toBe(body.length);
    expect(sha(got)).toBe(sha(body));
    expect(healthy).toBe(true);
  });

  it.each([
    ['not hex', 'session-not-hex'],
    ['SQL', "0x'; DROP TABLE sessions;--"],
    ['HTML', '<img src=x onerror=alert(1)>'],
    ['10 KB', '0x' + 'f'.repeat(10_000)],
  ])('a session id that is %s is forwarded, recorded bounded, and crashes nothing', async (_label, session) => {
    const body = Buffer.from('data: {"id":"chatcmpl-s","model":"m","choices":[]}\n\ndata: [DONE]\n\n');
    const upstream = await sseUpstream(body);
    const { url, adminUrl } = await startProxy(upstream.url);
    const res = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', session_id: session }, body: '{}' });
    expect(sha(Buffer.from(await res.body.arrayBuffer()))).toBe(sha(body));
    expect(upstream.requests[0]?.headers.session_id).toBe(session);
    expect((await request(`${adminUrl}/healthz`)).statusCode).toBe(200);
  });

  it.each([
    ['empty', ''],
    ['Bearer with nothing', 'Bearer'],
    ['Bearer non-sk token', 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.x'],
    ['lowercase bearer sk', 'bearer sk-AbCdEf.' + '1'.repeat(64)],
    ['sk with a short secret', 'Bearer sk-AbCdEf.12'],
    ['sk with no dot', 'Bearer sk-AbCdEf1234'],
    ['Basic', 'Basic ' + Buffer.from('admin:pw').toString('base64')],
    ['Basic not base64', 'Basic %%%'],
    ['Digest', 'Digest username="a", realm="b"'],
    ['10 KB', 'Bearer ' + 'x'.repeat(10_000)],
    // Trailing whitespace is not part of a field value (RFC 9110 §5.5): parsers strip it before we see it.
    ['tabs and spaces', 'Bearer\t \tsk-AbCdEf.' + '2'.repeat(64)],
  ])('authorization %s: forwarded as is, nothing crashes', async (_label, auth) => {
    const upstream = await startUpstream((req, res) => res.end(JSON.stringify({ auth: req.headers.authorization ?? null })));
    const { url } = await startProxy(upstream.url);
    const res = await request(`${url}/v1/models`, { headers: { authorization: auth } });
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({ auth });
  });

  it('a non-ASCII session id (raw bytes on the wire) is forwarded and crashes nothing', async () => {
    const upstream = await startUpstream((req, res) => res.end(JSON.stringify({ len: Buffer.byteLength(String(req.headers.session_id), 'latin1') })));
    const { url, adminUrl } = await startProxy(upstream.url);
    const raw = await rawExchange(url, Buffer.concat([Buffer.from('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-length: 2\r\nsession_id: '), Buffer.from('sezení-🐎', 'utf8'), Buffer.from('\r\n\r\n{}')]), untilJsonBody);
    expect(raw).toMatch(/^HTTP\/1\.1 200/);
    expect(raw).toContain(`{"len":${Buffer.byteLength('sezení-🐎', 'utf8')}}`);
    expect((await request(`${adminUrl}/healthz`)).statusCode).toBe(200);
  });

  it('hop-by-hop and odd request headers from a client do not break forwarding', async () => {
    const upstream = await startUpstream((req, res) => res.end(JSON.stringify({ upgrade: req.headers.upgrade ?? null, ka: req.headers['keep-alive'] ?? null })));
    const { url } = await startProxy(upstream.url);
    const raw = await rawExchange(url, 'GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close, keep-alive\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Connection: keep-alive\r\n\r\n', untilJsonBody);
    expect(raw).toMatch(/^HTTP\/1\.1 200/);
    expect(raw).toContain('{"upgrade":null,"ka":null}');
  });
});
