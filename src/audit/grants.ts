/**
 * `crosstalk audit --print-grants`: the least-privilege GRANTs for the schema a database actually holds,
 * column by column, from the checks' own requirements. A fixed GRANT line cannot be right: each gateway
 * schema has only one of `sessions` and `routed_sessions`, and naming the other makes the whole GRANT fail.
 */
import type { AuditCheck } from './check-kit.js';
import { AUDIT_CHECKS } from './checks.js';
import { generationUnmet, type DetectedSchema } from './schema-detect.js';

/** Columns holding key material: never granted, whatever a check might one day ask for. */
export const SECRET_COLUMNS: ReadonlySet<string> = new Set(['api_keys.hashed_key', 'api_keys.encrypted_key']);

/** `"name"`, doubling quotes (PostgreSQL docs, 4.1.1 "Identifiers and Key Words"): names come from catalogs. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export interface TableGrant {
  schema: string;
  table: string;
  columns: string[];
}

/**
 * Per table, the columns the checks that apply to this schema read, in the table's own column order.
 * Catalog-only requirements (`select: false`) need no grant: pg_index and pg_class are readable by every role.
 */
export function requiredGrants(schema: DetectedSchema, checks: readonly AuditCheck[] = AUDIT_CHECKS): TableGrant[] {
  const wanted = new Map<string, Set<string>>();
  for (const check of checks) {
    if (generationUnmet(check.generation, schema) !== undefined) continue;
    for (const requirement of check.requires) {
      if (requirement.select === false) continue;
      const table = schema.tables.get(requirement.table);
      if (table === undefined) continue;
      const present = requirement.columns.filter((c) => table.columns.includes(c));
      // An optional group the schema lacks entirely: the check does not apply, nothing to grant.
      if (requirement.optional === true && present.length < requirement.columns.length) continue;
      const set = wanted.get(table.name) ?? new Set<string>();
      for (const column of present) if (!SECRET_COLUMNS.has(`${table.name}.${column}`)) set.add(column);
      wanted.set(table.name, set);
    }
  }
  const grants: TableGrant[] = [];
  for (const table of schema.tables.values()) {
    const columns = wanted.get(table.name);
    if (columns === undefined || columns.size === 0) continue;
    grants.push({ schema: table.schema, table: table.name, columns: table.columns.filter((c) => columns.has(c)) });
  }
  return grants;
}

/** The GRANT statements, one per line; the role is validated as a plain identifier (options.ts). */
export function grantStatements(grants: readonly TableGrant[], database: string, role: string): string[] {
  const schemas = [...new Set(grants.map((g) => g.schema))];
  return [
    `GRANT CONNECT ON DATABASE ${quoteIdent(database)} TO ${role};`,
    ...schemas.map((s) => `GRANT USAGE ON SCHEMA ${quoteIdent(s)} TO ${role};`),
    ...grants.map(
      (g) =>
        `GRANT SELECT (${g.columns.map(quoteIdent).join(', ')}) ON ${quoteIdent(g.schema)}.${quoteIdent(g.table)} ` +
        `TO ${role};`,
    ),
  ];
}

export interface GrantsForDatabase {
  label: string;
  /** Masked. */
  url: string;
  database: string;
  schema: DetectedSchema;
}

/** The `--print-grants` text for one database: a comment naming it and its schema, then the statements. */
export function renderGrants(found: GrantsForDatabase, role: string): string {
  const grants = requiredGrants(found.schema);
  const generations = found.schema.generations.join(' and ') || 'no gateway table';
  return [
    `-- crosstalk audit --print-grants: database "${found.label}" (${found.url}), schema ${generations}`,
    `-- Create the role first, e.g. CREATE ROLE ${role} LOGIN PASSWORD '…'; run these as the tables' owner.`,
    `-- Column-level SELECT on what the checks read; ${[...SECRET_COLUMNS].join(' and ')} are never granted.`,
    ...grantStatements(grants, found.database, role),
    '',
  ].join('\n');
}
