/**
 * Moved to src/config/values.ts; this re-export stays only until every command imports the new module.
 * @deprecated import from './config/values.js'
 */
export * from './config/values.js';
