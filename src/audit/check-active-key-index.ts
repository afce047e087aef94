/**
 * The guard the seed report relied on, read from pg_index instead of from code: the partial unique index
 * that lets an API key hold one active session only.
 */
import { defineQueryCheck } from './check-kit.js';

export const ACTIVE_KEY_INDEX_NAME = 'sessions_active_api_key_unique';

interface IndexRow {
  index_name: string;
  is_unique: boolean;
  is_valid: boolean;
  is_ready: boolean;
  columns: string[];
  has_expressions: boolean;
  predicate: string | null;
}

/** `is_active IS TRUE`, `is_active = true` and bare `is_active` select the same rows (NULL excluded by all). */
const PROTECTIVE_PREDICATES = new Set(['is_activeistrue', 'is_active=true', 'is_active']);

function normalisePredicate(predicate: string | null): string {
  return (predicate ?? '').toLowerCase().replace(/[()\s]/g, '');
}

/** What is wrong with an index as the one-active-session-per-key guard; empty when it protects. */
export function indexProblems(index: IndexRow): string[] {
  const problems: string[] = [];
  if (!index.is_unique) problems.push('not unique');
  if (!index.is_valid || !index.is_ready) {
    // A failed CREATE INDEX CONCURRENTLY leaves it so (PostgreSQL docs, CREATE INDEX, "Building Indexes
    // Concurrently"): rows already in the table were never proven unique.
    problems.push('not valid (indisvalid = false)');
  }
  const columns = index.columns.join(', ');
  // Within `WHERE is_active IS TRUE`, (api_key_id) and (api_key_id, is_active) enforce the same thing.
  if (index.has_expressions || (columns !== 'api_key_id, is_active' && columns !== 'api_key_id')) {
    problems.push(`on (${index.has_expressions ? 'an expression' : columns}) instead of (api_key_id, is_active)`);
  }
  if (!PROTECTIVE_PREDICATES.has(normalisePredicate(index.predicate))) {
    problems.push(
      index.predicate === null ? 'has no predicate' : `predicate ${index.predicate} instead of is_active IS true`,
    );
  }
  return problems;
}

export const activeKeyIndex = defineQueryCheck<IndexRow>({
  id: 'active_key_index',
  generation: 'api_key_sessions',
  title: `Partial unique index ${ACTIVE_KEY_INDEX_NAME}`,
  proves:
    `The database itself refuses a second active session for one API key: ${ACTIVE_KEY_INDEX_NAME} exists, ` +
    'is valid, unique, on (api_key_id, is_active) WHERE is_active IS true. The seed read this from code; ' +
    'this reads it from pg_index.',
  requires: [{ table: 'sessions', columns: ['api_key_id', 'is_active'], select: false }],
  sql: `SELECT c.relname AS index_name,
       i.indisunique AS is_unique,
       i.indisvalid AS is_valid,
       i.indisready AS is_ready,
       ARRAY(SELECT a.attname::text
             FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS columns,
       i.indexprs IS NOT NULL AS has_expressions,
       pg_get_expr(i.indpred, i.indrelid) AS predicate
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = to_regclass($1)
ORDER BY c.relname
LIMIT 100`,
  params: () => ['sessions'],
  evaluate(rows) {
    const named = rows.find((r) => r.index_name === ACTIVE_KEY_INDEX_NAME);
    const describe = (r: IndexRow): string =>
      `unique on (${r.columns.join(', ')}) WHERE ${r.predicate ?? 'true'}, valid`;
    if (named) {
      const problems = indexProblems(named);
      if (problems.length === 0) {
        return { status: 'pass', summary: `${ACTIVE_KEY_INDEX_NAME} is ${describe(named)}`, rowsFound: 0 };
      }
      return {
        status: 'violation',
        summary: `${ACTIVE_KEY_INDEX_NAME} exists but is ${problems.join('; ')}`,
        rowsFound: 1,
        findings: { violation: 1, warning: 0 },
        sample: [{ id: ACTIVE_KEY_INDEX_NAME, detail: problems.join('; '), severity: 'violation' }],
      };
    }
    const equivalent = rows.find((r) => indexProblems(r).length === 0);
    if (equivalent) {
      return {
        status: 'pass',
        summary: `the guard exists as ${equivalent.index_name}: ${describe(equivalent)}`,
        notes: [`${ACTIVE_KEY_INDEX_NAME} itself is absent; ${equivalent.index_name} enforces the same rule.`],
        rowsFound: 0,
      };
    }
    return {
      status: 'violation',
      summary:
        `${ACTIVE_KEY_INDEX_NAME} is missing: nothing in the database stops an API key from holding ` +
        'two active sessions',
      rowsFound: 1,
      findings: { violation: 1, warning: 0 },
      sample: [{ id: ACTIVE_KEY_INDEX_NAME, detail: 'missing', severity: 'violation' }],
    };
  },
});
