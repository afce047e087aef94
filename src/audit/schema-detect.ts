import type { ClientBase } from 'pg';
import type { SchemaGeneration, SchemaReport, TableReport } from './result.js';

/** The table each schema generation is recognised by. */
export const GENERATION_TABLE: Record<SchemaGeneration, GatewayTable> = {
  api_key_sessions: 'sessions',
  routed_pool: 'routed_sessions',
};

/** The gateway tables the checks read (../shared/CONTEXT.md, "Database"). */
export const GATEWAY_TABLES = ['users', 'api_keys', 'sessions', 'routed_sessions'] as const;
export type GatewayTable = (typeof GATEWAY_TABLES)[number];

export interface DetectedTable {
  name: string;
  schema: string;
  columns: string[];
  selectable: Set<string>;
}

export interface DetectedSchema {
  /** The role the audit runs as, for skip reasons ("no SELECT privilege … for role x"). */
  user: string;
  tables: Map<string, DetectedTable>;
  sessionsId: SchemaReport['sessionsId'];
  generations: SchemaGeneration[];
}

/**
 * Tables resolve through `search_path` with `to_regclass`, exactly as the checks' unqualified names will,
 * so a gateway living in its own schema is audited with `?options=-c search_path=gw`. Privileges come from
 * `has_column_privilege`, which is true for a table-wide grant too; a check whose columns are not all
 * readable is skipped instead of failing. Catalog reads only: no lock is taken on the tables.
 */
export const DETECT_TABLES_SQL = `SELECT t.name AS table_name,
       n.nspname AS table_schema,
       a.attname AS column_name,
       has_column_privilege(c.oid, a.attnum, 'SELECT') AS can_select
FROM unnest($1::text[]) AS t(name)
JOIN pg_class c ON c.oid = to_regclass(t.name)
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY t.name, a.attnum`;

/** Whether `sessions.id` alone is unique: through the primary key, or a valid unique index without predicate. */
export const DETECT_SESSIONS_ID_SQL = `SELECT coalesce(bool_or(i.indisprimary), false) AS primary_key,
       coalesce(bool_or(i.indisunique AND i.indisvalid AND i.indpred IS NULL), false) AS unique_index
FROM pg_index i
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attname = 'id'
WHERE i.indrelid = to_regclass('sessions')
  AND i.indnkeyatts = 1
  AND i.indkey[0] = a.attnum`;

interface ColumnRow {
  table_name: string;
  table_schema: string;
  column_name: string;
  can_select: boolean;
}

export async function detectSchema(client: ClientBase): Promise<DetectedSchema> {
  const user = (await client.query<{ user: string }>('SELECT current_user AS user')).rows[0]?.user ?? 'unknown';
  const { rows } = await client.query<ColumnRow>(DETECT_TABLES_SQL, [[...GATEWAY_TABLES]]);
  const tables = new Map<string, DetectedTable>();
  for (const row of rows) {
    let table = tables.get(row.table_name);
    if (!table) {
      table = { name: row.table_name, schema: row.table_schema, columns: [], selectable: new Set() };
      tables.set(row.table_name, table);
    }
    table.columns.push(row.column_name);
    if (row.can_select) table.selectable.add(row.column_name);
  }

  let sessionsId: SchemaReport['sessionsId'] = 'absent';
  if (tables.get('sessions')?.columns.includes('id')) {
    const id = (await client.query<{ primary_key: boolean; unique_index: boolean }>(DETECT_SESSIONS_ID_SQL)).rows[0];
    sessionsId = id?.primary_key ? 'primary_key' : id?.unique_index ? 'unique_index' : 'not_unique';
  }

  // A generation is present when its table is: a `sessions` table missing a column the checks need is then
  // audited (and UNVERIFIED, naming the column), never quietly taken for another schema.
  const generations = (Object.keys(GENERATION_TABLE) as SchemaGeneration[]).filter((g) =>
    tables.has(GENERATION_TABLE[g]),
  );
  return { user, tables, sessionsId, generations };
}

/** The serialisable view of a detected schema, for the report. */
export function schemaReport(schema: DetectedSchema): SchemaReport {
  const tables: TableReport[] = [...schema.tables.values()].map((t) => ({
    name: t.name,
    schema: t.schema,
    columns: t.columns,
    selectableColumns: t.columns.filter((c) => t.selectable.has(c)),
  }));
  return {
    generations: schema.generations,
    tables,
    missingTables: GATEWAY_TABLES.filter((name) => !schema.tables.has(name)),
    sessionsId: schema.sessionsId,
  };
}

export interface TableRequirement {
  table: GatewayTable;
  columns: string[];
  /** False for catalog-only checks (the index check reads pg_index, not the table). */
  select?: boolean;
  /**
   * Columns a later gateway migration added: where they are absent the check does not apply to this
   * version of the schema (`not_applicable`) instead of being unable to run.
   */
  optional?: boolean;
}

/** Why a check does not run: it does not apply to this schema, or it applies and cannot run (UNVERIFIED). */
export interface UnmetRequirement {
  status: 'not_applicable' | 'skipped';
  reason: string;
}

const OTHER_GENERATION: Record<SchemaGeneration, string> = {
  api_key_sessions: 'table sessions not found (this database has the newer routed_sessions pool)',
  routed_pool: 'table routed_sessions not found (this database has the 2025 sessions table)',
};

/** Whether a check of `generation` applies here; the not-applicable reason otherwise. */
export function generationUnmet(
  generation: SchemaGeneration | undefined,
  schema: DetectedSchema,
): UnmetRequirement | undefined {
  if (generation === undefined || schema.generations.includes(generation)) return undefined;
  const other = schema.generations.length > 0;
  return {
    status: 'not_applicable',
    reason: other ? OTHER_GENERATION[generation] : `table ${GENERATION_TABLE[generation]} not found`,
  };
}

/** Why a check cannot run on this schema, or `undefined` when everything it reads is there and readable. */
export function unmetRequirement(
  requires: readonly TableRequirement[],
  schema: DetectedSchema,
): UnmetRequirement | undefined {
  for (const { table, columns, select = true, optional = false } of requires) {
    const found = schema.tables.get(table);
    if (!found) return { status: 'skipped', reason: `table ${table} not found` };
    const missing = columns.filter((c) => !found.columns.includes(c));
    if (missing.length > 0) {
      const names = missing.map((c) => `${table}.${c}`).join(', ');
      return optional
        ? { status: 'not_applicable', reason: `column ${names} not in this version of the gateway schema` }
        : { status: 'skipped', reason: `column ${names} not found` };
    }
    if (!select) continue;
    const unreadable = columns.filter((c) => !found.selectable.has(c));
    if (unreadable.length === columns.length) {
      return { status: 'skipped', reason: `no SELECT privilege on table ${table} for role ${schema.user}` };
    }
    if (unreadable.length > 0) {
      const names = unreadable.map((c) => `${table}.${c}`).join(', ');
      return { status: 'skipped', reason: `no SELECT privilege on column ${names} for role ${schema.user}` };
    }
  }
  return undefined;
}
