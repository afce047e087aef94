/**
 * Deprecated name of ./result.ts, kept only while src/demo (another owner's files) still imports it.
 * Delete once nothing imports '../probe/model.js'.
 */
export type * from './result.js';
