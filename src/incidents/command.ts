/**
 * `crosstalk incidents --admin-url http://sidecar:9464 [--admin-url …] --since 24h`: reads each sidecar's admin
 * `/incidents` (with `--admin-token-file`'s bearer token when set) and prints who received whose data.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { addOptions, cliFlags, defineOption, readOption } from '../config/option.js';
import { choice, parseDurationMs, parseHttpUrl } from '../config/values.js';
import type { Incident } from '../proxy/incidents.js';
import { formatSummary, summarizeIncidents } from './summary.js';

export const INCIDENTS_OPTION_SPECS = {
  adminUrl: defineOption('--admin-url <url>', 'CROSSTALK_ADMIN_URLS', "a sidecar's admin URL; repeatable, one per replica (env: comma-separated)", {
    parse: (v: string, name: string) => v.split(',').map((u) => parseHttpUrl(u.trim(), name)),
    repeatable: true,
  }),
  adminTokenFile: defineOption('--admin-token-file <path>', 'CROSSTALK_ADMIN_TOKEN_FILE', 'file holding the admin bearer token', {
    parse: (path: string, name: string) => {
      try {
        return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        throw new ConfigError(`${name}: cannot read ${JSON.stringify(path)}`, { cause: err });
      }
    },
    defaultText: 'no token',
  }),
  since: defineOption('--since <dur>', 'CROSSTALK_INCIDENTS_SINCE', 'how far back (24h, 30m, 7d)', { parse: parseDurationMs, fallback: 24 * 3_600_000, defaultText: '24h' }),
  format: defineOption('--format <fmt>', 'CROSSTALK_INCIDENTS_FORMAT', 'text or json', { parse: choice(['text', 'json'] as const), fallback: 'text' as const, defaultText: 'text' }),
};

/** Every incident one sidecar holds (its ring, newest first). */
export async function fetchIncidents(adminUrl: URL, token: string | undefined): Promise<Incident[]> {
  const url = new URL('/incidents?limit=1000000', adminUrl);
  const res = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`${adminUrl.origin}/incidents answered ${res.status}`);
  const body = (await res.json()) as { incidents?: unknown };
  return Array.isArray(body.incidents) ? (body.incidents as Incident[]) : [];
}

export function registerIncidentsCommand(program: Command): void {
  const cmd = program.command('incidents').description('Which key prefixes and sessions received whose data, from the sidecars\' incidents');
  const o = INCIDENTS_OPTION_SPECS;
  addOptions(cmd, Object.values(o));
  cmd.action(async () => {
    const flags = cliFlags(cmd);
    const urls = (readOption(o.adminUrl, flags, process.env) ?? []).flat();
    if (urls.length === 0) throw new ConfigError('--admin-url (or CROSSTALK_ADMIN_URLS) is required: the sidecars\' admin URLs');
    const token = readOption(o.adminTokenFile, flags, process.env);
    const since = Date.now() - (readOption(o.since, flags, process.env) ?? 0);
    const all = (await Promise.all(urls.map((u) => fetchIncidents(u, token)))).flat();
    const summary = summarizeIncidents(all, since);
    process.stdout.write(readOption(o.format, flags, process.env) === 'json' ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary, urls.length));
  });
}
