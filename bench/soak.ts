/**
 * Soak: 10,000 streamed requests at concurrency 64 through a `crosstalk proxy` child process, with 1% injected
 * crosstalk of mixed kinds. Checks: every injected case flagged (with the expected reason), no clean request
 * flagged, every clean stream delivered byte-identical (sha256 computed by the upstream as it writes vs by the
 * client as it reads), proxy RSS flat at the end. A script, not a test: `npm run soak [-- --requests N]`.
 *
 * The upstream is a purpose-built SSE server in this process so that it knows exactly which bytes it sent and
 * can misbehave per request; the proxy runs in its own process so its RSS is its own.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '64' },
    'inject-every': { type: 'string', default: '100' },
    chunks: { type: 'string', default: '20' },
    // e.g. --proxy-node-options=--max-old-space-size=96: shows whether RSS growth is V8 heap sizing or retention.
    'proxy-node-options': { type: 'string', default: '' },
  },
});
const TOTAL = Number(args.requests);
const CONCURRENCY = Number(args.concurrency);
const INJECT_EVERY = Number(args['inject-every']);
const CHUNKS = Number(args.chunks);

const KINDS = ['echo_header', 'chunk_request_id', 'session_echo', 'model', 'interleave', 'collision', 'key'] as const;
type Kind = (typeof KINDS)[number];
const EXPECTED_REASON: Record<Kind, string> = {
  echo_header: 'request_id_mismatch',
  chunk_request_id: 'request_id_mismatch',
  session_echo: 'session_mismatch',
  model: 'model_mismatch',
  interleave: 'completion_id_interleave',
  collision: 'completion_id_collision',
  key: 'session_key_conflict',
};
const MODELS = ['llama-3.3-70b', 'qwen3-235b', 'mistral-31-24b'];
const SESSIONS = Array.from({ length: 48 }, (_, i) => ({
  id: '0x' + createHash('sha256').update(`session-${i}`).digest('hex'),
  model: MODELS[i % MODELS.length] as string,
  key: `sk-Soak${String(i).padStart(2, '0')}.${createHash('sha256').update(`key-${i}`).digest('hex')}`,
}));

// ---------------------------------------------------------------- upstream
const sentHashes = new Map<string, string>();
/** request id → completion id and when it first went on the wire, for in-flight streams (oldest first). */
const inflightIds = new Map<string, { id: string; since: number }>();
/**
 * In the real bug a newer request's chunks are *moved* to an older connection. Copying a live stream's id onto
 * another connection the instant it is written would make the race ambiguous (whichever the proxy reads first
 * looks like the owner), so an injected interleave borrows only an id that has been on the wire a while.
 */
const BORROW_AFTER_MS = 20;
const deliveredIds: string[] = [];

function chunk(id: string, model: string, content: string, extra = ''): string {
  return `data: {"id":"${id}","object":"chat.completion.chunk","created":1730000000,"model":"${model}"${extra},"choices":[{"index":0,"delta":{"content":"${content}"},"finish_reason":null}]}\n\n`;
}

const upstream = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const rid = String(req.headers['x-request-id']);
    const session = String(req.headers.session_id);
    const inject = req.headers['x-soak-inject'] as Kind | undefined;
    const drift = req.headers['x-soak-drift'] === '1';
    const spec = SESSIONS.find((s) => s.id === session);
    const model = inject === 'model' ? (MODELS.find((m) => m !== spec?.model) as string) : (spec?.model ?? 'unknown');
    const headers: Record<string, string> = { 'content-type': 'text/event-stream', 'x-request-id': inject === 'echo_header' ? `${rid}-other` : rid };
    if (inject === 'session_echo') headers.session_id = SESSIONS[(SESSIONS.findIndex((s) => s.id === session) + 1) % SESSIONS.length]?.id as string;
    res.writeHead(200, headers);
    const hash = createHash('sha256');
    const write = (s: string) => {
      const b = Buffer.from(s);
      hash.update(b);
      res.write(b);
    };
    const ownId = inject === 'collision' && deliveredIds.length > 0 ? (deliveredIds[deliveredIds.length - 1] as string) : `chatcmpl-${randomBytes(8).toString('hex')}`;
    let i = 0;
    const next = () => {
      if (i < CHUNKS) {
        let id = drift ? `chatcmpl-${randomBytes(8).toString('hex')}` : ownId;
        if (inject === 'interleave' && i === CHUNKS / 2) {
          // The provider bug: a chunk belonging to another in-flight stream lands here.
          const now = performance.now();
          const other = [...inflightIds.entries()].find(([r, v]) => r !== rid && now - v.since > BORROW_AFTER_MS)?.[1];
          id = other?.id ?? `chatcmpl-foreign-${rid}`;
        }
        const extra = inject === 'chunk_request_id' && i === 1 ? `,"request_id":"${rid}-other"` : '';
        if (i % 7 === 3) write(': ping\n\n');
        write(chunk(id, model, `tok${i} `, extra));
        // Only ids already on the wire may be borrowed by an injected interleave (as in the real bug).
        if (i === 0 && !drift) inflightIds.set(rid, { id: ownId, since: performance.now() });
        if (inject === 'interleave' && i === CHUNKS / 2) write(chunk(ownId, model, 'back '));
        i++;
        setImmediate(next);
        return;
      }
      write(`data: {"id":"${ownId}","object":"chat.completion.chunk","created":1730000000,"model":"${model}","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":${CHUNKS},"total_tokens":${9 + CHUNKS}},"usage_from_provider":{"prompt_tokens":9,"completion_tokens":${CHUNKS},"total_tokens":${9 + CHUNKS}}}\n\n`);
      write('data: [DONE]\n\n');
      sentHashes.set(rid, hash.digest('hex'));
      inflightIds.delete(rid);
      if (!drift) deliveredIds.push(ownId);
      if (deliveredIds.length > 1000) deliveredIds.splice(0, 500);
      res.end();
    };
    next();
  });
});

// ---------------------------------------------------------------- proxy process
function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

async function waitFor(url: string, tries = 100): Promise<void> {
  for (let i = 0; i < tries; i++) {
    try {
      const r = await request(url);
      await r.body.text();
      if (r.statusCode === 200) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

async function main(): Promise<void> {
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const port = 20000 + Math.floor(Math.random() * 20000);
  const adminPort = port + 1;
  const nodeOptions = args['proxy-node-options'] ? args['proxy-node-options'].split(' ') : [];
  const child = spawn(process.execPath, [...nodeOptions, '--import', 'tsx', 'src/cli.ts', 'proxy', '--upstream', upstreamUrl, '--port', String(port), '--admin-port', String(adminPort), '--incidents-limit', '100000', '--log-level', 'error'], {
    env: { ...process.env, OTEL_TRACES_EXPORTER: 'none', CROSSTALK_FINGERPRINT_SECRET: 'soak' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const pid = child.pid as number;
  const proxyUrl = `http://127.0.0.1:${port}`;
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  await waitFor(`${adminUrl}/healthz`);

  const dispatcher = new Agent({ connections: CONCURRENCY * 2, pipelining: 1 });
  const injected = new Map<string, Kind>();
  const received = new Map<string, string>();
  const errors: string[] = [];
  let started = 0;
  let done = 0;
  let rssStart = 0;
  let rssPeak = 0;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssKb(pid))), 100);

  const one = async (n: number) => {
    const rid = `soak-${n}`;
    const session = SESSIONS[n % SESSIONS.length] as (typeof SESSIONS)[number];
    const kind = n > 0 && n % INJECT_EVERY === 0 ? (KINDS[(n / INJECT_EVERY) % KINDS.length] as Kind) : undefined;
    if (kind) injected.set(rid, kind);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      session_id: session.id,
      'x-session-id': session.id,
      authorization: 'Basic ' + Buffer.from('admin:soak').toString('base64'),
      'x-api-key': kind === 'key' ? (SESSIONS[(n + 1) % SESSIONS.length]?.key as string) : session.key,
      'x-request-id': rid,
    };
    if (kind && kind !== 'key') headers['x-soak-inject'] = kind;
    if (!kind && n % 5 === 0) headers['x-soak-drift'] = '1';
    const body = JSON.stringify({ stream: true, ...(n % 2 === 0 && { model: session.model }), messages: [{ role: 'user', content: `hello ${n}` }] });
    try {
      const res = await request(`${proxyUrl}/v1/chat/completions`, { method: 'POST', headers, body, dispatcher });
      const hash = createHash('sha256');
      for await (const c of res.body) hash.update(c as Buffer);
      received.set(rid, hash.digest('hex'));
    } catch (err) {
      errors.push(`${rid}: ${(err as Error).message}`);
    }
  };

  const t0 = performance.now();
  const worker = async () => {
    while (started < TOTAL) {
      const n = started++;
      await one(n);
      done++;
      if (done === 200) rssStart = rssKb(pid);
      if (done % 2000 === 0) console.error(`  ${done}/${TOTAL} requests, proxy RSS ${(rssKb(pid) / 1024).toFixed(1)} MB`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 1000));
  const rssEnd = rssKb(pid);
  clearInterval(sampler);

  const incidents = (await (await request(`${adminUrl}/incidents?limit=100000`)).body.json()) as {
    total: number;
    incidents: Array<{ requestId: string; reasons: string[] }>;
  };
  const flagged = new Map(incidents.incidents.map((i) => [i.requestId, i.reasons]));
  let caught = 0;
  let rightReason = 0;
  const missed: string[] = [];
  for (const [rid, kind] of injected) {
    const reasons = flagged.get(rid);
    if (reasons) {
      caught++;
      if (reasons.includes(EXPECTED_REASON[kind])) rightReason++;
      else missed.push(`${rid} (${kind}) flagged as ${reasons.join(',')}`);
    } else missed.push(`${rid} (${kind}) not flagged`);
  }
  const falsePositives = [...flagged.keys()].filter((rid) => !injected.has(rid));
  let compared = 0;
  let identical = 0;
  let bytesMismatch = 0;
  for (const [rid, sent] of sentHashes) {
    if (injected.has(rid)) continue;
    compared++;
    if (received.get(rid) === sent) identical++;
    else bytesMismatch++;
  }
  const byKind = Object.fromEntries(KINDS.map((k) => [k, [...injected.values()].filter((v) => v === k).length]));
  const result = {
    requests: TOTAL,
    concurrency: CONCURRENCY,
    seconds: Number(seconds.toFixed(1)),
    requestsPerSecond: Math.round(TOTAL / seconds),
    errors: errors.length,
    injected: injected.size,
    injectedByKind: byKind,
    flagged: caught,
    flaggedWithExpectedReason: rightReason,
    falsePositives: falsePositives.length,
    cleanStreamsCompared: compared,
    cleanStreamsByteIdentical: identical,
    cleanStreamsDiffering: bytesMismatch,
    proxyRssMb: { afterWarmup: +(rssStart / 1024).toFixed(1), peak: +(rssPeak / 1024).toFixed(1), end: +(rssEnd / 1024).toFixed(1) },
  };
  console.log(JSON.stringify(result, null, 2));
  if (missed.length) console.error('missed:', missed.slice(0, 20));
  if (falsePositives.length) console.error('false positives:', falsePositives.slice(0, 20).map((r) => `${r}: ${flagged.get(r)?.join(',')}`));
  if (errors.length) console.error('errors:', errors.slice(0, 20));

  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await dispatcher.close();
  upstream.close();
  const ok =
    errors.length === 0 && caught === injected.size && rightReason === injected.size && falsePositives.length === 0 && bytesMismatch === 0;
  process.exitCode = ok ? 0 : 1;
}

await main();
