import net from 'node:net';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startProxy, startUpstream } from '../helpers/proxy-harness.js';
import { signal } from './fault-kit.js';

/**
 * Issue 14 row 5: in block mode one request carrying a victim's session id and any key bound the session to that
 * key, and the victim's every request was blocked for 60 minutes. Must: an unverified request never locks anyone
 * out — a session binds to a key only after the router accepted a request on it (a 2xx), through the proxy.
 */

const SESSION = '0x' + '5e'.repeat(32);
const GOOD_AUTH = 'Basic ' + Buffer.from('router:pw').toString('base64');
const VICTIM_KEY = 'sk-Victim.' + '1'.repeat(64);
const ATTACKER_KEY = 'sk-Attack.' + '2'.repeat(64);

/** A router: valid Basic credentials and `x-reject` absent → 200 SSE; else the status it names (401 by default). */
async function router() {
  let n = 0;
  return startUpstream((req, res) => {
    req.resume();
    if (req.headers['x-hang'] !== undefined) return; // never answers
    const reject = req.headers['x-reject'] as string | undefined;
    if (req.headers.authorization !== GOOD_AUTH || reject !== undefined) {
      const status = Number(reject ?? 401);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 401 ? 'invalid username or password' : 'session expired');
      return;
    }
    const id = `chatcmpl-v${n++}`;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(`data: {"id":"${id}","model":"m","choices":[{"index":0,"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n`);
  });
}

function chat(url: string, key: string, extra: Record<string, string> = {}) {
  return request(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', session_id: SESSION, 'x-session-id': SESSION, 'x-api-key': key, ...extra },
    body: '{"stream":true,"messages":[{"role":"user","content":"hi"}]}',
  });
}

async function victimServed(url: string): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const res = await chat(url, VICTIM_KEY, { authorization: GOOD_AUTH });
    const body = await res.body.text();
    expect(res.statusCode).toBe(200);
    expect(body).toContain('"content":"hi"');
    expect(body).not.toContain('CROSSTALK_ERR_FOREIGN_RESPONSE');
  }
}

describe('block mode: a request naming a victim\'s session never locks the victim out (issue 14 row 5)', () => {
  it.each([
    ['wrong router credentials (401)', { authorization: 'Basic ' + Buffer.from('x:y').toString('base64') }],
    ['no credentials at all (401)', {}],
    ['valid credentials, the router refuses the session (403)', { authorization: GOOD_AUTH, 'x-reject': '403' }],
    ['valid credentials, session expired (400)', { authorization: GOOD_AUTH, 'x-reject': '400' }],
    ['valid credentials, the router fails (500)', { authorization: GOOD_AUTH, 'x-reject': '500' }],
  ])('the attacker goes first with %s: its answer passes through, and the victim is served', async (_label, attackerHeaders) => {
    const upstream = await router();
    const { url, proxy } = await startProxy(upstream.url, { onCrosstalk: 'block' });
    const attack = await chat(url, ATTACKER_KEY, attackerHeaders as Record<string, string>);
    await attack.body.text();
    expect(attack.statusCode).not.toBe(502);
    await victimServed(url);
    expect(proxy.incidents.list()).toEqual([]);
  });

  it('the attacker goes first and leaves before the router answers: the victim is served', async () => {
    const arrived = signal();
    const base = await router();
    const upstream = await startUpstream((req, res) => {
      if (req.headers['x-hang'] !== undefined) {
        arrived.resolve();
        return;
      }
      // Everything else through the real router's rules.
      base.server.emit('request', req, res);
    });
    const { url } = await startProxy(upstream.url, { onCrosstalk: 'block' });
    const body = '{"stream":true}';
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n` +
        `session_id: ${SESSION}\r\nx-api-key: ${ATTACKER_KEY}\r\nauthorization: ${GOOD_AUTH}\r\nx-hang: 1\r\n\r\n${body}`,
    );
    await arrived.promise;
    socket.destroy();
    await victimServed(url);
  });

  it('the attacker is still refused once the victim\'s request was accepted, and the victim keeps being served', async () => {
    const upstream = await router();
    const { url, proxy } = await startProxy(upstream.url, { onCrosstalk: 'block' });
    await victimServed(url);
    // Accepted by the router with valid credentials, on a session bound to another key: blocked.
    const attack = await chat(url, ATTACKER_KEY, { authorization: GOOD_AUTH });
    const answer = await attack.body.text();
    expect(attack.statusCode).toBe(502);
    expect(answer).toContain('session_key_conflict');
    // ...and an unverified one changes nothing either.
    await (await chat(url, ATTACKER_KEY)).body.text();
    await victimServed(url);
    expect(proxy.incidents.list().every((i) => i.apiKeyPrefix === 'sk-Attack')).toBe(true);
  });
});
