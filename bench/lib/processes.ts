/** Child processes of the bench: spawn, wait until ready, keep the tail of their output, stop by pid. */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer, connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { isV8TraceLine, ScavengeCounter, type ScavengeTally } from './gc-trace.js';

const TAIL_BYTES = 4096;
const STOP_GRACE_MS = 10_000;

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** The last few KB of stdout+stderr, for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process has exited. */
  stop(): Promise<void>;
  /** Resolves when the process exits (any reason). */
  readonly exited: Promise<number | null>;
  /**
   * The first line the process wrote to stdout (captured from the start, so it is never missed); V8's GC trace
   * lines (`--gc`) are not lines the process wrote.
   */
  readonly firstLine: Promise<string>;
  /** The scavenges its stdout has reported so far (nothing unless it runs with `--trace-gc-nvp`). */
  scavenges(): ScavengeTally;
}

export function spawnChild(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): Child {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
  };
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
  let stdoutSoFar = '';
  const firstLine = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      stdoutSoFar += chunk.toString('utf8');
      for (let nl = stdoutSoFar.indexOf('\n'); nl !== -1; nl = stdoutSoFar.indexOf('\n')) {
        const line = stdoutSoFar.slice(0, nl);
        stdoutSoFar = stdoutSoFar.slice(nl + 1);
        if (isV8TraceLine(line)) continue;
        child.stdout?.off('data', onData);
        resolve(line);
        return;
      }
    };
    child.stdout?.on('data', onData);
    void exited.then((code) => reject(new Error(`${name} exited (${code}) before writing a line\n${tail}`)));
  });
  // Nobody may wait for it (proxies announce nothing): never an unhandled rejection.
  firstLine.catch(() => undefined);
  child.stdout?.on('data', keep);
  const scavenges = new ScavengeCounter();
  child.stdout?.on('data', (chunk: Buffer) => scavenges.write(chunk));
  child.stderr?.on('data', keep);
  let stopping: Promise<void> | undefined;
  return {
    name,
    process: child,
    pid: child.pid,
    tail: () => tail,
    exited,
    firstLine,
    scavenges: () => scavenges.tally,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

/** Waits for the first stdout line and parses it as JSON (the bench's helper scripts announce themselves so). */
export async function readyLine<T>(child: Child, timeoutMs = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${child.name}: not ready after ${timeoutMs} ms\n${child.tail()}`)), timeoutMs);
  });
  try {
    const line = await Promise.race([child.firstLine, timeout]);
    try {
      return JSON.parse(line) as T;
    } catch (err) {
      throw new Error(`${child.name}: bad ready line ${JSON.stringify(line)}`, { cause: err });
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Polls until `probe` resolves true, the child exits, or the time is up. */
export async function waitUntil(child: Child, what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${child.name} exited before ${what}\n${child.tail()}`);
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${child.name}: ${what} not reached after ${timeoutMs} ms\n${child.tail()}`);
}

export function httpOk(url: string): Promise<boolean> {
  return fetch(url).then(
    async (res) => {
      await res.arrayBuffer();
      return res.ok;
    },
    () => false,
  );
}

export function tcpOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A port the kernel just handed out on loopback (free at the time of the call). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The first executable named `name` on PATH or in the usual sbin directories, else undefined. */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin', '/usr/local/nginx/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
