import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/audit/embedded-postgres.js';

export interface TestDatabase {
  /** Connection string of a fresh, empty database no other test uses. */
  url: string;
  /** True on the embedded PGlite server: no roles, no statement_timeout timer, one transaction at a time. */
  embedded: boolean;
  /** Runs SQL as the database owner (superuser), on a connection opened for the call. */
  exec(sql: string): Promise<void>;
  /** A connected client as the owner; closed by close(). */
  connect(): Promise<pg.Client>;
  close(): Promise<void>;
}

/** The real server when `DATABASE_URL` is set (CI and this machine: postgres://postgres@127.0.0.1:5432/test). */
export const SERVER_URL = process.env.DATABASE_URL;

/** True without `DATABASE_URL`: tests then run on embedded PGlite (use with `it.skipIf` and a reason). */
export const ON_EMBEDDED = SERVER_URL === undefined || SERVER_URL === '';

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

// initdb is most of PGlite's start-up (about 4 s here, per test process). A fresh data directory is dumped
// once and kept in the OS temp directory, keyed by the PGlite version, so every later instance, in this
// process or the next, loads it in about half a second. Each test still gets a PGlite instance of its own.
// The package does not export its package.json; read it next to the resolved entry point (dist/…).
const PGLITE_ENTRY = createRequire(import.meta.url).resolve('@electric-sql/pglite');
const PGLITE_VERSION = (
  JSON.parse(readFileSync(join(dirname(PGLITE_ENTRY), '..', 'package.json'), 'utf8')) as { version: string }
).version;
const DATA_DIR_CACHE = join(tmpdir(), `crosstalk-test-pglite-${PGLITE_VERSION}-datadir.tar`);

let freshDataDir: Promise<Blob> | undefined;
function pgliteDataDir(): Promise<Blob> {
  return (freshDataDir ??= (async () => {
    try {
      return new Blob([await readFile(DATA_DIR_CACHE)]);
    } catch {
      // Not cached yet: make one (below).
    }
    const template = await PGlite.create();
    const dump = await template.dumpDataDir('none');
    await template.close();
    // Written aside then renamed: parallel test processes never read a half-written file.
    const partial = `${DATA_DIR_CACHE}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
    await rename(partial, DATA_DIR_CACHE);
    return dump;
  })());
}

function wrap(url: string, embedded: boolean, drop: () => Promise<void>): TestDatabase {
  const clients: pg.Client[] = [];
  const connect = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
    return client;
  };
  let closed: Promise<void> | undefined;
  return {
    url,
    embedded,
    connect,
    async exec(sql) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    },
    close: () =>
      (closed ??= (async () => {
        await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
        await drop();
      })()),
  };
}

/**
 * A fresh database for one test: on the server in `DATABASE_URL`, a uniquely named database created
 * through an admin connection and dropped WITH (FORCE) (PostgreSQL 13+) on close; without it, a PGlite
 * instance of its own behind a socket on 127.0.0.1.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (ON_EMBEDDED) {
    const server = await startEmbeddedPostgres({ loadDataDir: await pgliteDataDir() });
    return wrap(server.url, true, () => server.close());
  }
  const serverUrl = SERVER_URL as string;
  const name = `crosstalk_audit_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return wrap(withDatabase(serverUrl, name), false, async () => {
    const dropper = new pg.Client({ connectionString: serverUrl });
    await dropper.connect();
    try {
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await dropper.end();
    }
  });
}

/** Runs SQL on the server in `DATABASE_URL` itself (roles are cluster-wide). Real server only. */
export async function execOnServer(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}
